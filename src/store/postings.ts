// key → set of names, for the store's indexes. Most keys name one object (a
// pod's own pod-name label, its owner's uid for a one-pod set), so a single
// name is held bare and only a second one makes a Set: at 100k pods that is
// the difference between 100k Sets and none.

const EMPTY: readonly string[] = [];

export class Postings<K> {
  private readonly map = new Map<K, string | Set<string>>();

  add(key: K, name: string): void {
    const current = this.map.get(key);
    if (current === undefined) this.map.set(key, name);
    else if (typeof current === 'string') {
      if (current !== name) this.map.set(key, new Set([current, name]));
    } else current.add(name);
  }

  remove(key: K, name: string): void {
    const current = this.map.get(key);
    if (current === undefined) return;
    if (typeof current === 'string') {
      if (current === name) this.map.delete(key);
      return;
    }
    current.delete(name);
    if (current.size === 1) this.map.set(key, current.values().next().value!);
    else if (current.size === 0) this.map.delete(key);
  }

  /** The names under a key (do not change the postings while iterating). */
  get(key: K): ReadonlySet<string> | readonly string[] {
    const current = this.map.get(key);
    if (current === undefined) return EMPTY;
    return typeof current === 'string' ? [current] : current;
  }

  size(key: K): number {
    const current = this.map.get(key);
    return current === undefined ? 0 : typeof current === 'string' ? 1 : current.size;
  }

  has(key: K, name: string): boolean {
    const current = this.map.get(key);
    return current === undefined ? false : typeof current === 'string' ? current === name : current.has(name);
  }

  get isEmpty(): boolean {
    return this.map.size === 0;
  }

  clear(): void {
    this.map.clear();
  }
}
