// file(): a 200 MB download (whole and ranged) in MB/s beside Bun's own
// `new Response(Bun.file(path))`, Elysia's file(), and the seed's userland
// 8 KB chunk loop, measured in the same run; then the server's RSS while it
// sends a 1 GB file. The servers run in a child process and curl is the
// client, so client and server do not share a JavaScript thread. A precompressed
// sibling (`data.bin.gz`, asked for with Accept-Encoding: gzip) is sent by sendfile
// too: its row should match identity's.
import { Elysia, file as elysiaFile } from 'elysia'
import { copyFile, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming } from '../plugins'
import { printTable, type Row } from './support/table'

const MB = 1024 * 1024
// Runs interleave the variants; the ratio is taken on each variant's best run,
// the one least disturbed by other work on a shared machine (median shown too).
const RUNS = Number(process.env.RUNS ?? 7)

/** The seed's way: a ReadableStream that reads and enqueues 8 KB at a time. */
function chunkLoop(path: string, start: number, end: number): ReadableStream<Uint8Array> {
	let at = start
	let handle: Awaited<ReturnType<typeof open>> | undefined
	return new ReadableStream({
		async pull(c) {
			handle ??= await open(path, 'r')
			const n = Math.min(8192, end - at + 1)
			if (n <= 0) {
				await handle.close()
				return c.close()
			}
			const buf = Buffer.allocUnsafe(n)
			const { bytesRead } = await handle.read(buf, 0, n, at)
			at += bytesRead
			c.enqueue(buf.subarray(0, bytesRead))
		},
		async cancel() {
			await handle?.close()
		}
	})
}

const RANGE = /bytes=(\d+)-(\d+)/

/** Child process: every variant on one port each, and a /rss probe. */
async function serve(dir: string) {
	let peak = 0
	setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
	const raw = Bun.serve({
		port: 0,
		hostname: '127.0.0.1',
		fetch(req) {
			const url = new URL(req.url)
			if (url.pathname === '/rss') {
				const cpu = process.cpuUsage()
				const body = JSON.stringify({ rss: process.memoryUsage().rss, peak, cpuMs: (cpu.user + cpu.system) / 1000 })
				peak = process.memoryUsage().rss
				return new Response(body)
			}
			const path = join(dir, url.pathname.split('/')[2]!)
			const size = Bun.file(path).size
			const m = RANGE.exec(req.headers.get('range') ?? '')
			const [start, end] = m ? [Number(m[1]), Number(m[2])] : [0, size - 1]
			const headers = m ? { 'content-range': `bytes ${start}-${end}/${size}` } : undefined
			const status = m ? 206 : 200
			if (url.pathname.startsWith('/bun/'))
				return new Response(m ? Bun.file(path).slice(start, end + 1) : Bun.file(path), { status, headers })
			return new Response(chunkLoop(path, start, end), {
				status,
				headers: { ...headers, 'content-length': String(end - start + 1) }
			})
		}
	})
	const app = new Elysia()
		.use(streaming({ file: { root: dir } }))
		.get('/sluice/:name', ({ file, params }) => file(params.name))
		.get('/streamed/:name', ({ file, params }) => file(params.name, { zeroCopy: false }))
		.get('/elysia/:name', ({ params }) => elysiaFile(join(dir, params.name)))
		.get('/plain/:name', ({ params }) => new Response(Bun.file(join(dir, params.name))))
		.listen({ port: 0, hostname: '127.0.0.1' })
	console.log(JSON.stringify({ raw: raw.port, app: app.server!.port }))
}

/** Downloads with curl into /dev/null; returns MB/s and the bytes received. */
async function download(url: string, range?: string, header?: string): Promise<{ mbs: number; bytes: number }> {
	const args = ['curl', '-s', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url]
	if (range) args.push('-H', `Range: bytes=${range}`)
	// Without --compressed, curl keeps a coded body's bytes as they came.
	if (header) args.push('-H', header)
	const proc = Bun.spawn(args, { stdout: 'pipe' })
	const [bytes, seconds] = (await new Response(proc.stdout).text()).split(' ').map(Number) as [number, number]
	await proc.exited
	return { mbs: bytes / MB / seconds, bytes }
}

interface Probe {
	rss: number
	peak: number
	cpuMs: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function main() {
	const dir = await mkdtemp(join(tmpdir(), 'sluice-file-bench-'))
	const child = Bun.spawn(['bun', 'run', import.meta.path, 'serve', dir], { stdout: 'pipe', stderr: 'inherit' })
	try {
		const chunk = Buffer.alloc(MB)
		for (let i = 0; i < MB; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i)
		const f = await open(join(dir, 'data.bin'), 'w')
		for (let i = 0; i < 200; i++) await f.write(chunk)
		await f.close()
		// Its "precompressed" sibling: the same bytes under the .gz name, newer than the file.
		// Only the path is measured (bytes by sendfile), so it need not be real gzip.
		await copyFile(join(dir, 'data.bin'), join(dir, 'data.bin.gz'))
		// The 1 GB file is sparse: it costs no disk, and sendfile/read still carry every byte.
		await writeFile(join(dir, 'huge.bin'), '')
		await truncate(join(dir, 'huge.bin'), 1024 * MB)

		const reader = child.stdout.getReader()
		const ports = JSON.parse(new TextDecoder().decode((await reader.read()).value)) as { raw: number; app: number }
		const GZ = 'Accept-Encoding: gzip'
		const variants: [string, string, string?][] = [
			['new Response(Bun.file)', `http://127.0.0.1:${ports.raw}/bun`],
			['sluice file()', `http://127.0.0.1:${ports.app}/sluice`],
			['sluice file(), precompressed .gz sibling', `http://127.0.0.1:${ports.app}/sluice`, GZ],
			['sluice file() zeroCopy:false', `http://127.0.0.1:${ports.app}/streamed`],
			["Elysia's file()", `http://127.0.0.1:${ports.app}/elysia`],
			['userland 8 KB loop', `http://127.0.0.1:${ports.raw}/loop`]
		]
		const ranges = { whole: undefined, 'first 100 MB': '0-104857599', 'middle 50 MB': '73400320-125829119' }
		const results = new Map<string, Record<string, number[]>>()
		for (const [name] of variants) results.set(name, {})
		for (const [, base, header] of variants) await download(`${base}/data.bin`, undefined, header) // warm the page cache and JIT
		for (let run = 0; run < RUNS; run++)
			for (const [label, range] of Object.entries(ranges))
				for (const [name, base, header] of variants) {
					const { mbs, bytes } = await download(`${base}/data.bin`, range, header)
					const want = range ? Number(range.split('-')[1]) - Number(range.split('-')[0]) + 1 : 200 * MB
					if (bytes !== want) throw new Error(`${name} ${label}: ${bytes} bytes, expected ${want}`)
					;(results.get(name)![label] ??= []).push(mbs)
				}

		// Sandwiches on one server: Bun.file, sluice, Bun.file again, back to back; the ratio
		// to the mean of its two neighbours cancels most of the load other processes put on the machine.
		const sandwiches: number[] = []
		for (let i = 0; i < RUNS * 2; i++) {
			const before = await download(`http://127.0.0.1:${ports.app}/plain/data.bin`)
			const mine = await download(`http://127.0.0.1:${ports.app}/sluice/data.bin`)
			const after = await download(`http://127.0.0.1:${ports.app}/plain/data.bin`)
			sandwiches.push((2 * mine.mbs) / (before.mbs + after.mbs))
		}

		const memory: Record<string, number> = {}
		const cpu: Record<string, number> = {}
		// The first read of the sparse file fills the page cache: do it before measuring.
		await download(`${variants[0]![1]}/huge.bin`)
		// Three interleaved rounds: the largest RSS growth and the least CPU (the least disturbed run).
		for (let round = 0; round < 3; round++)
			for (const [name, base, header] of variants) {
				if (header) continue // no sibling for the 1 GB file: it would repeat sluice file()
				await fetch(`http://127.0.0.1:${ports.raw}/rss`).then((r) => r.json())
				Bun.sleepSync(50)
				const before = (await fetch(`http://127.0.0.1:${ports.raw}/rss`).then((r) => r.json())) as Probe
				const { bytes } = await download(`${base}/huge.bin`)
				if (bytes !== 1024 * MB) throw new Error(`${name}: 1 GB download got ${bytes} bytes`)
				const after = (await fetch(`http://127.0.0.1:${ports.raw}/rss`).then((r) => r.json())) as Probe
				memory[name] = Math.max(memory[name] ?? 0, (after.peak - before.rss) / MB)
				cpu[name] = Math.min(cpu[name] ?? Infinity, after.cpuMs - before.cpuMs)
			}

		for (const [label] of Object.entries(ranges)) {
			const base = results.get(variants[0]![0])![label]!
			const rows: Row[] = variants.map(([name]) => {
				const runs = results.get(name)![label]!
				// Each run measures the variants back to back, so a run's ratio shares its moment's load.
				const paired = median(runs.map((mbs, i) => mbs / base[i]!))
				return {
					name,
					values: { 'best MB/s': Math.max(...runs), 'median MB/s': median(runs), 'median paired ratio': paired }
				}
			})
			const title = `200 MB file, ${label}${label === 'whole' ? '' : ' (Range)'}, ${RUNS} runs, curl client`
			printTable(title, rows, 'best MB/s', ['new Response(Bun.file)'])
		}
		printTable(
			`sluice file() / new Response(Bun.file), same Elysia server, ${sandwiches.length} sandwiched 200 MB downloads`,
			[{ name: 'ratio', values: { median: median(sandwiches), min: Math.min(...sandwiches), max: Math.max(...sandwiches) } }],
			'median',
			[]
		)
		printTable(
			'Server while sending a 1 GB file: RSS growth (peak minus before, worst of 3) and CPU time (user + system, best of 3)',
			variants.filter(([, , header]) => !header).map(([name]) => ({
				name,
				values: { 'RSS growth MB': Math.round(memory[name]! * 10) / 10, 'server CPU ms': cpu[name]! }
			})),
			'server CPU ms',
			['new Response(Bun.file)']
		)
	} finally {
		child.kill()
		await child.exited
		await rm(dir, { recursive: true, force: true })
	}
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!)
else await main()
