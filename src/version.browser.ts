/**
 * kiln's version in the browser bundle, which has no package.json to read: the build writes it
 * in from package.json (scripts/build-browser.ts defines KILN_VERSION), so it stays written in
 * one place.
 */
declare const KILN_VERSION: string;

export const version: string = KILN_VERSION;
