/** Runs one engine's child process and reads back its report line. */
import { spawn } from 'node:child_process';
import { REPORT_PREFIX, type EngineReport } from './results.js';

export interface ChildResult {
  report: EngineReport | null;
  /** Why there is no report: the exit status and the child's last words. */
  error?: string;
  seconds: number;
}

export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutSeconds: number, cwd?: string): Promise<ChildResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - start) / 1000;
      const line = out.split('\n').find((l) => l.startsWith(REPORT_PREFIX));
      if (line) return resolve({ report: JSON.parse(line.slice(REPORT_PREFIX.length)) as EngineReport, seconds });
      const last = (err || out).trim().split('\n').filter((l) => !/npm warn/i.test(l)).slice(-1)[0] ?? '';
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutSeconds} s` : `exited with ${code ?? signal}: ${last.slice(0, 200)}`;
      resolve({ report: null, error: why, seconds });
    });
  });
}
