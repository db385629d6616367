/**
 * The paths install and uninstall work on: their directory and name, their ancestors, and
 * their observed state (what is there, whether it is what the manifest says). Pure.
 */
import type { InstalledState, PathState } from '../model/install.ts';

export function dirnameOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

export function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every ancestor directory of `path`, outermost first, without '/'. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirnameOf(path); dir !== '/'; dir = dirnameOf(dir)) out.unshift(dir);
  return out;
}

/** What is at `path` on the host; missing when the observer saw nothing there. */
export function stateOf(state: InstalledState, path: string): PathState {
  return state.paths.get(path) ?? { kind: 'missing' };
}

/** A path's state in words, for messages: `a symlink to vif-xenplan`. */
export function describePathState(s: PathState): string {
  switch (s.kind) {
    case 'missing':
      return 'missing';
    case 'file':
      return `a file (sha256 ${s.sha256.slice(0, 12)}…)`;
    case 'link':
      return `a symlink to ${s.target}`;
    case 'dir':
      return 'a directory';
    case 'other':
      return 'a special file';
  }
}

/** Whether what is at a path is the file (by sha256) or the link (by target) an entry names. */
export function matchesEntry(
  s: PathState,
  entry: { kind: 'file'; sha256: string } | { kind: 'link'; target: string },
): boolean {
  if (entry.kind === 'file') return s.kind === 'file' && s.sha256 === entry.sha256;
  return s.kind === 'link' && s.target === entry.target;
}
