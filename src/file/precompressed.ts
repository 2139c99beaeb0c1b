import type { Stats } from 'node:fs'
import { negotiateEncoding, SERVER_PREFERENCE, type Encoding } from '../stream/accept-encoding'
import { resolveInRoot, type ResolveOptions } from './resolve'

/** The file name suffix of each coding's precompressed sibling (as nginx's gzip_static and brotli_static, zstd's own). */
export const SIBLING_SUFFIX: Readonly<Record<Encoding, string>> = { zstd: '.zst', br: '.br', gzip: '.gz' }

/** A precompressed sibling of a file: `name.zst`, `name.br` or `name.gz`. */
export interface Sibling {
	encoding: Encoding
	path: string
	stats: Stats
}

/**
 * The usable precompressed siblings of `name` (already resolved to `stats`):
 * each is found under the same root rules as the file itself (a sibling that is a
 * symlink out of the root does not count), must be a regular file, and must be
 * no older than the file: a stale sibling would serve old content.
 */
export async function siblingsOf(
	root: string,
	name: string,
	stats: Stats,
	encodings: readonly Encoding[],
	options: ResolveOptions
): Promise<Sibling[]> {
	const found = await Promise.all(
		encodings.map(async (encoding) => {
			const sibling = await resolveInRoot(root, name + SIBLING_SUFFIX[encoding], options)
			return sibling && sibling.stats.mtimeMs >= stats.mtimeMs ? { encoding, ...sibling } : undefined
		})
	)
	return found.filter((s): s is Sibling => s !== undefined)
}

/** The sibling the request's Accept-Encoding prefers (q-values, then the server's order), if any. */
export function pickSibling(request: Request, siblings: Sibling[]): Sibling | undefined {
	if (siblings.length === 0) return undefined
	const order = SERVER_PREFERENCE.filter((e) => siblings.some((s) => s.encoding === e))
	const chosen = negotiateEncoding(request.headers.get('accept-encoding'), order)
	return siblings.find((s) => s.encoding === chosen)
}

/**
 * Types worth compressing on the fly: text, JSON, NDJSON, XML, JavaScript,
 * SVG. Images, video, archives and fonts are compressed already.
 */
export function isCompressible(type: string): boolean {
	const t = type.split(';')[0]!.trim().toLowerCase()
	return (
		t.startsWith('text/') ||
		/^application\/(json|x-ndjson|ndjson|jsonl|x-jsonlines|javascript|xml|wasm|manifest\+json|ld\+json|geo\+json)$/.test(t) ||
		t.endsWith('+json') ||
		t.endsWith('+xml')
	)
}
