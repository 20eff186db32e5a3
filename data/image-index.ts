/**
 * Listing an image directory as Keras's index_directory does (keras/src/utils/dataset_utils.py):
 * the files, their labels and the class names, in a fixed order.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../src/errors.js';

export interface DirectoryIndex {
  /** The image files: class by class, each class's folder walked with its subfolders in sorted order. */
  paths: string[];
  /** Each file's class index, or null without labels. */
  labels: Int32Array | null;
  /** The class names (the folder names, or the distinct given labels as text), or null without labels. */
  classNames: string[] | null;
}

export interface IndexOptions {
  labels: 'inferred' | null | readonly number[];
  classNames: readonly string[] | null;
  followLinks: boolean;
  /** The extensions listed, lower case with the dot. */
  extensions: readonly string[];
}

/** Python's sorted() on text: by code unit, not by locale. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Whether `path` is a folder, following a symbolic link (os.path.isdir); false when it cannot be read. */
async function isDirectory(entry: Dirent, path: string): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function entriesOf(op: string, dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch((err) => fail(op, `cannot list the directory ${dir}: ${reason(err)}`));
}

/**
 * The files under `top` whose names end in one of `extensions` (any case), as os.walk visits
 * them and Keras sorts them: folder by folder in the order of their paths as text, each folder's
 * files by name. Links to folders are followed only with `followLinks`; a link that leads back
 * to a folder being walked is not entered again (os.walk would loop until the path is too long).
 */
async function walk(op: string, top: string, followLinks: boolean, extensions: readonly string[]): Promise<string[]> {
  const folders: [string, string[]][] = [];
  const visit = async (dir: string, ancestors: ReadonlySet<string>): Promise<void> => {
    const files: string[] = [];
    folders.push([dir, files]);
    for (const entry of await entriesOf(op, dir)) {
      const path = join(dir, entry.name);
      if (!(await isDirectory(entry, path))) {
        if (extensions.some((e) => entry.name.toLowerCase().endsWith(e))) files.push(entry.name);
      } else if (entry.isDirectory() || followLinks) {
        const real = await realpath(path);
        if (!ancestors.has(real)) await visit(path, new Set([...ancestors, real]));
      }
    }
    files.sort(byText);
  };
  await visit(top, new Set([await realpath(top)]));
  folders.sort((a, b) => byText(a[0], b[0]));
  return folders.flatMap(([dir, files]) => files.map((f) => join(dir, f)));
}

/** The class folders of `directory`: its subfolders (links to folders too), sorted, those starting with '.' left out. */
async function classFolders(op: string, directory: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await entriesOf(op, directory)) {
    if (!entry.name.startsWith('.') && (await isDirectory(entry, join(directory, entry.name)))) names.push(entry.name);
  }
  return names.sort(byText);
}

/** Checks that `directory` is a folder, with an error that says what it is instead. */
export async function checkDirectory(op: string, directory: unknown): Promise<string> {
  if (typeof directory !== 'string' || directory === '') fail(op, `directory must be a path, got ${JSON.stringify(directory)}`);
  const info = await stat(directory).catch((err: NodeJS.ErrnoException) =>
    fail(op, err.code === 'ENOENT' ? `the directory ${directory} does not exist` : `cannot read the directory ${directory}: ${err.message}`));
  if (!info.isDirectory()) fail(op, `${directory} is a file, not a directory`);
  return directory;
}

/** The files of `directory` with their labels and the class names (see DirectoryIndex). */
export async function indexDirectory(op: string, directory: string, { labels, classNames, followLinks, extensions }: IndexOptions): Promise<DirectoryIndex> {
  let classes = [''];
  if (labels === 'inferred') {
    const found = await classFolders(op, directory);
    if (classNames !== null) {
      const missing = classNames.filter((c) => !found.includes(c));
      if (missing.length > 0) {
        fail(op, `classNames ${JSON.stringify(missing)} are not subfolders of ${directory}: expected names among ${JSON.stringify(found)} (or a subset of them)`);
      }
      if (new Set(classNames).size !== classNames.length) fail(op, `classNames must not repeat a name, got ${JSON.stringify(classNames)}`);
    }
    classes = classNames === null ? found : [...classNames];
  }
  const perClass = [];
  for (const name of classes) perClass.push(await walk(op, join(directory, name), followLinks, extensions));
  const paths = perClass.flat();
  if (labels === null) return { paths, labels: null, classNames: null };
  if (labels === 'inferred') {
    const ids = new Int32Array(paths.length);
    let at = 0;
    perClass.forEach((files, c) => ids.fill(c, at, (at += files.length)));
    return { paths, labels: ids, classNames: classes };
  }
  if (labels.length !== paths.length) {
    fail(op, `expected as many labels as image files: labels holds ${labels.length} while ${paths.length} files were found in ${directory}`);
  }
  return { paths, labels: Int32Array.from(labels), classNames: [...new Set(labels)].sort((a, b) => a - b).map(String) };
}
