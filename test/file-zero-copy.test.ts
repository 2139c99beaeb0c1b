// Proves file() keeps Bun's zero-copy path: the server runs under strace, and
// the file's bytes must leave by sendfile(2), not by write/send from a buffer.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { freePort } from './support/example'
import { outputUntil } from './support/child-output'

// strace is a tool, not a service CI provides: without it (or without ptrace
// rights) the proof is skipped with a warning, never failed.
const strace = ['/usr/bin/strace', '/bin/strace'].find(existsSync)
const canTrace = strace !== undefined && Bun.spawnSync([strace, '-f', '-qq', '-o', '/dev/null', 'true']).exitCode === 0
const skip = !canTrace
if (skip) console.warn('[skip] strace is not usable here; the zero-copy proof is skipped')
const SIZE = 8 * 1024 * 1024
let dir: string
// A precompressed sibling of a text file: about 2 MB of gzip, sent by sendfile too.
const page = randomBytes(2 * 1024 * 1024).toString('hex')
const pageGz = gzipSync(page, { level: 1 })

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-zero-copy-'))
	await writeFile(join(dir, 'data.bin'), Buffer.alloc(SIZE, 3))
	await writeFile(join(dir, 'page.txt'), page)
	await writeFile(join(dir, 'page.txt.gz'), pageGz)
})
afterAll(() => rm(dir, { recursive: true, force: true }))

/** Sums the bytes each traced syscall returned, by syscall name. */
function bytesBySyscall(trace: string): Record<string, number> {
	const sums: Record<string, number> = {}
	for (const line of trace.split('\n')) {
		const m = /^(?:\d+\s+)?(\w+)\(.*\)\s+=\s+(\d+)/.exec(line)
		if (m) sums[m[1]!] = (sums[m[1]!] ?? 0) + Number(m[2])
	}
	return sums
}

test.skipIf(skip)('whole files, single ranges and precompressed siblings leave by sendfile, not through JavaScript', async () => {
	const port = freePort()
	const out = join(dir, 'trace.txt')
	const proc = Bun.spawn(
		[strace!, '-f', '-qq', '-e', 'trace=sendfile,write,writev,sendto,sendmsg', '-o', out,
			'bun', 'run', resolve(import.meta.dir, 'file-support/zero-copy-server.ts')],
		{ env: { ...process.env, PORT: String(port), FILE_ROOT: dir }, stdout: 'pipe', stderr: 'inherit' }
	)
	let serverPid = 0
	try {
		const printed = await outputUntil(proc.stdout, new RegExp(`:${port}`))
		serverPid = Number(/pid (\d+)/.exec(printed)![1])
		const whole = await fetch(`http://127.0.0.1:${port}/files/data.bin`)
		expect((await whole.arrayBuffer()).byteLength).toBe(SIZE)
		const part = await fetch(`http://127.0.0.1:${port}/files/data.bin`, { headers: { range: 'bytes=1000-4000999' } })
		expect(part.status).toBe(206)
		expect((await part.arrayBuffer()).byteLength).toBe(4_000_000)
		const gz = await fetch(`http://127.0.0.1:${port}/files/page.txt`, { headers: { 'accept-encoding': 'gzip' }, decompress: false })
		expect(gz.headers.get('content-encoding')).toBe('gzip')
		expect((await gz.arrayBuffer()).byteLength).toBe(pageGz.length)
	} finally {
		// Stop the traced server itself: strace then exits with it.
		if (serverPid) process.kill(serverPid, 'SIGTERM')
		else proc.kill('SIGKILL')
		await proc.exited
	}
	const sums = bytesBySyscall(await readFile(out, 'utf8'))
	expect(sums.sendfile ?? 0).toBe(SIZE + 4_000_000 + pageGz.length)
	// headers and logs only: far less than one file's worth went through write/send
	const copied = (sums.write ?? 0) + (sums.writev ?? 0) + (sums.sendto ?? 0) + (sums.sendmsg ?? 0)
	expect(copied).toBeLessThan(64 * 1024)
}, 30_000)
