/**
 * Kernel modules for an initramfs: which .ko files, in which order. Pure: reads the text of
 * `modules.dep` (from depmod), where each line is `path: dependency dependency ...` and the
 * dependencies are listed so that the last must be loaded first.
 */

export interface ModuleFile {
  /** The module's name as insmod sees it (file name without .ko). */
  readonly name: string;
  /** Path relative to the modules directory, e.g. kernel/fs/9p/9p.ko. */
  readonly path: string;
}

function nameOf(path: string): string {
  return (path.split('/').pop() ?? path).replace(/\.ko(\.[a-z]+)?$/, '');
}

/** The modules `wanted` and everything they need, each once, dependencies before dependents. */
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): ModuleFile[] {
  const deps = new Map<string, { path: string; needs: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    deps.set(nameOf(path), { path, needs: rest.trim().split(/\s+/).filter(Boolean).map(nameOf) });
  }
  const order: ModuleFile[] = [];
  const placed = new Set<string>();
  const place = (name: string, chain: readonly string[]) => {
    if (placed.has(name)) return;
    const entry =
      deps.get(name) ?? deps.get(name.replaceAll('-', '_')) ?? deps.get(name.replaceAll('_', '-'));
    if (!entry)
      throw new Error(
        `module ${name} is not in modules.dep${chain.length ? ` (needed by ${chain.join(' <- ')})` : ''}`,
      );
    // modules.dep lists a module's full closure, last-needed-first: load them in reverse.
    for (const need of [...entry.needs].reverse()) place(need, [name, ...chain]);
    placed.add(name);
    order.push({ name: nameOf(entry.path), path: entry.path });
  };
  for (const name of wanted) place(name, []);
  return order;
}
