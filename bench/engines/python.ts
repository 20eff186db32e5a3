/**
 * The Python peers: PyTorch (CPU) and NumPy's matmul, run from bench/python/ in their own
 * processes. Which python has them differs by machine (a pyenv python3 first on PATH does not
 * see Debian's python3-torch in /usr/lib/python3/dist-packages), so every candidate is probed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Python {
  exe: string;
  torch: string | null;
  numpy: string | null;
}

const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];
const PROBE = `import json, os, sys
def v(m):
    try:
        return __import__(m).__version__
    except Exception:
        return None
print(json.dumps({"exe": os.path.realpath(sys.executable), "torch": v("torch"), "numpy": v("numpy")}))`;

/** Every distinct python interpreter here, with its torch and numpy versions. */
export function findPythons(): Python[] {
  const found: Python[] = [];
  for (const cmd of CANDIDATES) {
    try {
      const p = JSON.parse(execFileSync(cmd, ['-c', PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 })) as Python;
      if (!found.some((f) => f.exe === p.exe)) found.push(p);
    } catch {
      // not installed, or broken: this candidate is simply absent (its reason shows as 'tried …')
    }
  }
  return found;
}

export interface PythonPeer {
  /** Table name: 'pytorch', or 'numpy <version>' (each python's NumPy may bring its own BLAS). */
  name: string;
  exe: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Debian's OpenBLAS 0.3.21 (under python3-torch) does not recognise newer x86 CPUs and falls
 * back to its SSE3 "Prescott" kernel, a quarter of its speed: the peer would flatter kiln. Where
 * the machine names no core, name the best one this CPU runs, as a user tuning PyTorch would.
 */
function bestOpenblasCore(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (base.OPENBLAS_CORETYPE || !existsSync('/proc/cpuinfo')) return {};
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? []);
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) return { OPENBLAS_CORETYPE: 'SkylakeX' };
  if (flags.has('avx2') && flags.has('fma')) return { OPENBLAS_CORETYPE: 'Haswell' };
  return {};
}

/** The peers these pythons make possible, and a reason for each one missing. */
export function pythonPeers(pythons: Python[], threads: number, base: NodeJS.ProcessEnv): { torch: PythonPeer | string; numpy: PythonPeer[] | string } {
  const tried = pythons.map((p) => p.exe).join(', ') || 'no python found';
  const counts = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const withTorch = pythons.find((p) => p.torch);
  const torch: PythonPeer | string = withTorch
    ? { name: 'pytorch', exe: withTorch.exe, env: { ...base, ...counts, ...bestOpenblasCore(base) } }
    : `no python here imports torch (tried ${tried}); apt-get install python3-torch libopenblas0-openmp`;
  // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, set on some machines for old OpenBLAS builds, pick a
  // slower kernel for a current NumPy: unset for the NumPy command only (gemm.py checks results)
  const { OPENBLAS_CORETYPE: _c, OPENBLAS_L2_SIZE: _l, ...plain } = base;
  const withNumpy = pythons.filter((p) => p.numpy);
  const numpy = withNumpy.length
    ? withNumpy.map((p) => ({ name: `numpy ${p.numpy}`, exe: p.exe, env: { ...plain, ...counts } }))
    : `no python here imports numpy (tried ${tried})`;
  return { torch, numpy };
}
