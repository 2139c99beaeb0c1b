import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'
import type { Stats } from 'node:fs'

/** Options of resolveInRoot. */
export interface ResolveOptions {
	/** Serve names with a segment that starts with a dot (`.env`, `.git/config`). @default false */
	dotfiles?: boolean
}

/** A regular file inside the root, found from a client-supplied name. */
export interface ResolvedFile {
	/** The real path (symlinks resolved), inside the root's real path. */
	path: string
	stats: Stats
}

// Control characters (NUL included) and the backslash, which some platforms and
// proxies treat as a separator.
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/
// A Windows drive (`C:x`) is an absolute path there.
const DRIVE = /^[a-zA-Z]:/

/**
 * Checks a client-supplied name without touching the file system: the
 * segments it names inside the root, or undefined if the name is refused.
 * The name is taken literally: it is never percent-decoded here, so a
 * double-encoded `%252e%252e` stays a harmless literal file name.
 */
export function nameSegments(name: string, { dotfiles = false }: ResolveOptions = {}): string[] | undefined {
	if (typeof name !== 'string' || name.length === 0 || name.length > 4096) return undefined
	if (FORBIDDEN.test(name) || DRIVE.test(name) || isAbsolute(name)) return undefined
	const segments = name.split('/')
	for (const s of segments) {
		if (s === '' || s === '.' || s === '..' || s.length > 255) return undefined
		if (!dotfiles && s.startsWith('.')) return undefined
	}
	return segments
}

const rootCache = new Map<string, Promise<string>>()

/** The root's real path, remembered per root (a root that fails to resolve is retried). */
function realRoot(root: string): Promise<string> {
	let real = rootCache.get(root)
	if (!real) {
		real = realpath(resolve(root))
		real.catch(() => rootCache.delete(root))
		rootCache.set(root, real)
	}
	return real
}

/**
 * Finds the regular file `name` names inside `root`, or undefined: a refused
 * name, a missing file, a directory, or a path whose real location (after
 * every symlink) lies outside the root's real path. The caller answers all of
 * them alike (404), so a client learns nothing about what lies outside.
 */
export async function resolveInRoot(
	root: string,
	name: string,
	options: ResolveOptions = {}
): Promise<ResolvedFile | undefined> {
	const segments = nameSegments(name, options)
	if (!segments) return undefined
	try {
		const base = await realRoot(root)
		const real = await realpath(join(base, ...segments))
		if (!real.startsWith(base.endsWith(sep) ? base : base + sep)) return undefined
		// A symlink inside the root may still lead to a dotfile.
		if (!options.dotfiles && real.slice(base.length).split(sep).some((s) => s.startsWith('.')))
			return undefined
		const stats = await stat(real)
		return stats.isFile() ? { path: real, stats } : undefined
	} catch {
		return undefined
	}
}
