/**
 * Where JsonLogger appends its lines when given a path. A module of its own so that the browser
 * bundle takes log-file.browser.ts in its place and the logger itself runs in a page.
 */
export { appendFile } from 'node:fs/promises';
