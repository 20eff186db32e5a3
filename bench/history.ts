/**
 * The results history: every `npm run bench` keeps its raw results (all rows, every engine's run,
 * the machine, the date and the git commit) in a file of its own, bench/history/<date>-<hhmmss>.json
 * (UTC, the run's start), so that any figure RESULTS.md quotes, from the latest run or from
 * "other runs", can be checked against the run it came from. A file per run rather than one
 * growing file: runs never edit each other's entries, and a run's name is its timestamp.
 * `npm run bench -- --render bench/history/<file>` prints that run's report again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Python } from './engines/python.js';
import type { Saved } from './report.js';
import type { Target } from './targets.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
export const historyDir = join(benchDir, 'history');

/** The code a run measured: HEAD, and the paths that differed from it (uncommitted work was measured too). */
export interface GitState {
  commit: string | null;
  changed: string[] | null;
  /** How the commit was found, where it was not read at the run's start (entries from before the history). */
  note?: string;
}

/** What a history file holds: results.json's content less its markdown, which `--render` rebuilds. */
export interface HistoryEntry extends Saved {
  git: GitState;
  /** The flags the run was given (`--quick`, `--only W1,W4`); null where not recorded. */
  args: string[] | null;
  pythons: Python[];
  targets: Target[];
}

/** HEAD and the changed paths, read without taking git's index lock (other work may be under way). */
export function gitState(): GitState {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: benchDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', 'HEAD').trim();
    const changed = git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit, changed };
  } catch {
    return { commit: null, changed: null, note: 'not a git checkout, or no git here' };
  }
}

/** 2026-11-27T04:44:01.535Z → 2026-11-27-044401 */
export const runName = (date: string): string => `${date.slice(0, 10)}-${date.slice(11, 19).replaceAll(':', '')}`;

/** Writes `entry` as a new history file (never over another run's) and returns its path. */
export function appendHistory(entry: HistoryEntry): string {
  mkdirSync(historyDir, { recursive: true });
  let path = join(historyDir, `${runName(entry.date)}.json`);
  for (let k = 2; existsSync(path); k++) path = join(historyDir, `${runName(entry.date)}-${k}.json`);
  writeFileSync(path, JSON.stringify(entry, null, 2) + '\n', { flag: 'wx' });
  return path;
}
