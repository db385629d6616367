/**
 * The stand-in xenstored's tree: nodes with a value, permissions, children and a generation;
 * request paths resolved and checked as xenstored does; the four changes a request can make.
 * A failed operation throws XsFailure with the errno name xenstored would answer.
 */

/** dom0's home: relative request paths are under it. */
export const DOM0_HOME = '/local/domain/0';
/** XENSTORE_ABS_PATH_MAX */
const ABS_PATH_MAX = 3072;
export const VALID_PATH = /^[A-Za-z0-9/_@-]+$/;

export interface XsNode {
  value: Buffer;
  perms: string[];
  children: Map<string, XsNode>;
  generation: number;
}

export type Change =
  | { readonly op: 'write'; readonly path: string; readonly value: Buffer }
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'rm'; readonly path: string }
  | { readonly op: 'setperms'; readonly path: string; readonly perms: string[] };

/** The generation counter shared by the live tree and every transaction's copy of it. */
export interface XsClock {
  generation: number;
}

/** A failed request: the errno name sent back in XS_ERROR. */
export class XsFailure extends Error {
  constructor(readonly errno: string) {
    super(errno);
  }
}

export function newNode(perms: string[], generation: number): XsNode {
  return { value: Buffer.alloc(0), perms: [...perms], children: new Map(), generation };
}

export function cloneNode(node: XsNode): XsNode {
  const children = new Map<string, XsNode>();
  for (const [name, child] of node.children) children.set(name, cloneNode(child));
  return { value: node.value, perms: [...node.perms], children, generation: node.generation };
}

/** Resolves a request path: relative paths are under `/local/domain/0`. Throws EINVAL on a malformed one. */
export function resolvePath(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new XsFailure('EINVAL');
  const path = raw.startsWith('/') ? raw : `${DOM0_HOME}/${raw}`;
  if (
    path.length > ABS_PATH_MAX ||
    !VALID_PATH.test(path) ||
    path.includes('//') ||
    (path.length > 1 && path.endsWith('/'))
  ) {
    throw new XsFailure('EINVAL');
  }
  return path;
}

function segmentsOf(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

export function lookup(root: XsNode, path: string): XsNode | undefined {
  let node: XsNode | undefined = root;
  for (const segment of segmentsOf(path)) {
    node = node.children.get(segment);
    if (node === undefined) return undefined;
  }
  return node;
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

export function isUnder(path: string, ancestor: string): boolean {
  return ancestor === '/' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/** Creates the node and missing parents (children inherit the parent's permissions). */
function ensureNode(clock: XsClock, tree: XsNode, path: string): { node: XsNode; created: boolean } {
  let node = tree;
  let created = false;
  for (const segment of segmentsOf(path)) {
    let child = node.children.get(segment);
    if (child === undefined) {
      clock.generation++;
      child = newNode(node.perms, clock.generation);
      node.children.set(segment, child);
      node.generation = clock.generation;
      created = true;
    }
    node = child;
  }
  return { node, created };
}

/** Applies one change to `tree`; returns whether anything changed (for watches) or throws an XsFailure. */
export function applyChange(clock: XsClock, tree: XsNode, change: Change): boolean {
  switch (change.op) {
    case 'write': {
      const { node } = ensureNode(clock, tree, change.path);
      node.value = change.value;
      return true;
    }
    case 'mkdir':
      return ensureNode(clock, tree, change.path).created;
    case 'rm': {
      if (change.path === '/') throw new XsFailure('EINVAL');
      const parent = lookup(tree, parentOf(change.path));
      if (parent === undefined) throw new XsFailure('ENOENT');
      const name = change.path.slice(change.path.lastIndexOf('/') + 1);
      if (!parent.children.delete(name)) return false; // gone already: fine when the parent exists
      clock.generation++;
      parent.generation = clock.generation;
      return true;
    }
    case 'setperms': {
      const node = lookup(tree, change.path);
      if (node === undefined) throw new XsFailure('ENOENT');
      node.perms = [...change.perms];
      return true;
    }
  }
}

/** Every node but the root, path → value (UTF-8), sorted by path; directories have "". */
export function listNodes(root: XsNode): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: XsNode, path: string): void => {
    for (const name of [...node.children.keys()].sort()) {
      const child = node.children.get(name)!;
      const childPath = `${path}/${name}`;
      out[childPath] = child.value.toString('utf8');
      walk(child, childPath);
    }
  };
  walk(root, '');
  return out;
}
