import { readFileSync } from 'node:fs'

/** Descriptors kept for everything that is not a stream: stdio, the event loop, listening sockets, Redis, requests, refusals. */
export const RESERVED_DESCRIPTORS = 64

/** What is assumed when the limit cannot be read. */
export const FALLBACK_DESCRIPTOR_LIMIT = 1024

let cached: number | undefined

/**
 * The process's open-file limit (the soft RLIMIT_NOFILE, which Bun raises to
 * the hard limit when it starts): from /proc/self/limits on Linux, else from
 * `sh -c 'ulimit -n'` (a child inherits the limit), else 1024. Infinity when
 * unlimited. Read once per process.
 */
export function descriptorLimit(): number {
	return (cached ??= readLimit())
}

function readLimit(): number {
	try {
		const line = readFileSync('/proc/self/limits', 'utf8')
			.split('\n')
			.find((l) => l.startsWith('Max open files'))
		const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
		if (soft) return parseLimit(soft)
	} catch {}
	try {
		const shell = Bun.spawnSync(['sh', '-c', 'ulimit -n'], { stdout: 'pipe', stderr: 'ignore' })
		if (shell.success) return parseLimit(shell.stdout.toString().trim())
	} catch {}
	return FALLBACK_DESCRIPTOR_LIMIT
}

function parseLimit(text: string): number {
	if (text === 'unlimited') return Infinity
	const n = Number(text)
	return Number.isInteger(n) && n > 0 ? n : FALLBACK_DESCRIPTOR_LIMIT
}

/**
 * The default `maxStreams` for a descriptor limit: `floor((limit - 64) / 2)`,
 * at least 1. Half, because a stream may hold two descriptors (a download's
 * socket and its file), and the 64 kept back answer other routes and send the
 * 503s, so a stream past the limit is refused instead of stuck at accept.
 */
export function streamLimitFor(limit: number): number {
	if (limit === Infinity) return Infinity
	return Math.max(1, Math.floor((limit - RESERVED_DESCRIPTORS) / 2))
}
