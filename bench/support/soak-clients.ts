// The clients of bench/soak.bench.ts: each kind is a loop that repeats one bounded
// operation against the soak server until `deadline`, counting what it did and what
// went wrong. Every wait has a timeout; every socket is closed by close().
import type { Socket } from 'bun'
import { StormClients } from './storm-clients'

const OP_TIMEOUT_MS = 30_000

/** What the clients did, by kind, and the first errors seen. */
export class SoakLog {
	ops: Record<string, number> = {}
	errors: Record<string, number> = {}
	firstErrors: string[] = []
	/** Ids the replaying subscribers skipped or received twice across their reconnects. */
	gaps = 0
	dups = 0

	done(kind: string) {
		this.ops[kind] = (this.ops[kind] ?? 0) + 1
	}
	failed(kind: string, error: unknown) {
		this.errors[kind] = (this.errors[kind] ?? 0) + 1
		const message = error instanceof Error ? error.message : String(error)
		if (this.firstErrors.length < 10) this.firstErrors.push(`${kind}: ${message}`)
	}
	get errorCount(): number {
		return Object.values(this.errors).reduce((a, b) => a + b, 0)
	}
}

const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min))

/** The soak's client kinds, all against one server. */
export class SoakClients {
	#open = new Set<{ close(): void }>()
	readonly url: string

	constructor(
		readonly port: number,
		readonly deadline: number,
		readonly log: SoakLog
	) {
		this.url = `http://127.0.0.1:${port}`
	}

	get running(): boolean {
		return performance.now() < this.deadline
	}

	/** Runs `op` until the deadline, `count` loops at once; an op that throws is counted, not fatal. */
	loop(kind: string, count: number, op: (index: number) => Promise<void>): Promise<void>[] {
		return Array.from({ length: count }, async (_, index) => {
			while (this.running) {
				try {
					await op(index)
					this.log.done(kind)
				} catch (error) {
					this.log.failed(kind, error)
					await Bun.sleep(100)
				}
			}
		})
	}

	/** Closes every socket still open. */
	close(): void {
		for (const c of this.#open) c.close()
		this.#open.clear()
	}

	#hold<T extends { close(): void }>(c: T): T {
		this.#open.add(c)
		return c
	}
	#release(c: { close(): void }) {
		c.close()
		this.#open.delete(c)
	}

	/** A subscriber that joins, reads for a while, and leaves (half abruptly, half cleanly). */
	async churn(): Promise<void> {
		const sub = this.#hold(new StormClients(1))
		try {
			await sub.connect(this.port)
			if (!(await sub.until(() => sub.clients[0]!.backAt !== undefined, OP_TIMEOUT_MS))) throw new Error('no response')
			await Bun.sleep(random(100, 3000))
		} finally {
			this.#release(sub)
		}
	}

	/**
	 * A subscriber that stays, but drops and comes back every few seconds with its
	 * Last-Event-ID: its ids must stay gapless and duplicate-free throughout.
	 */
	async replayer(): Promise<void> {
		const sub = this.#hold(new StormClients(1))
		const c = sub.clients[0]!
		try {
			await sub.connect(this.port)
			for (let round = 0; round < 5 && this.running; round++) {
				await Bun.sleep(random(500, 3000))
				sub.dropAll()
				await Bun.sleep(random(50, 1000))
				await sub.connect(this.port, { resume: true })
				if (!(await sub.until(() => c.backAt !== undefined, OP_TIMEOUT_MS))) throw new Error('no response to a reconnect')
				if (c.cutOff) throw new Error('a replaying subscriber was cut off as a slow consumer')
			}
		} finally {
			this.log.gaps += c.gaps
			this.log.dups += c.dups
			this.#release(sub)
		}
	}

	/** A reader that takes a little and pauses, on a subscription or a long NDJSON stream, then leaves. */
	async slowReader(): Promise<void> {
		const path = Math.random() < 0.5 ? '/sub' : `/ndjson?n=${random(20_000, 100_000)}`
		let socket: Socket | undefined
		const holder = this.#hold({ close: () => socket?.terminate() })
		let bytes = 0
		try {
			socket = await Bun.connect({
				hostname: '127.0.0.1',
				port: this.port,
				socket: {
					open: (s) => void s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
					data: (_s, chunk) => void (bytes += chunk.byteLength),
					error: () => {}
				}
			})
			const end = performance.now() + random(3000, 15_000)
			while (performance.now() < end && this.running) {
				socket.pause()
				await Bun.sleep(random(300, 1500))
				socket.resume()
				await Bun.sleep(20)
			}
			if (bytes === 0) throw new Error(`a slow reader of ${path} got nothing`)
		} finally {
			this.#release(holder)
		}
	}

	/** Publishes one frame of an odd size. */
	async publish(): Promise<void> {
		const res = await fetch(`${this.url}/publish`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ pad: 'x'.repeat(random(10, 2000)) }),
			signal: AbortSignal.timeout(OP_TIMEOUT_MS)
		})
		if (!res.ok) throw new Error(`publish: ${res.status}`)
		await res.text()
		await Bun.sleep(50)
	}

	/** Reads a whole NDJSON stream and counts its records. */
	async ndjson(): Promise<void> {
		const n = random(100, 20_000)
		const text = await (await fetch(`${this.url}/ndjson?n=${n}`, { signal: AbortSignal.timeout(OP_TIMEOUT_MS) })).text()
		const lines = text.split('\n').length - 1
		if (lines !== n) throw new Error(`ndjson: ${lines} records, expected ${n}`)
	}

	/** Reads a whole sse() stream and counts its events. */
	async sse(): Promise<void> {
		const n = random(10, 500)
		const text = await (await fetch(`${this.url}/sse?n=${n}`, { signal: AbortSignal.timeout(OP_TIMEOUT_MS) })).text()
		const events = text.split('\ndata: ').length - 1
		if (events !== n) throw new Error(`sse: ${events} events, expected ${n}`)
	}

	/** Streams an NDJSON body up, record by record; the server counts them. */
	async ingest(): Promise<void> {
		const n = random(100, 20_000)
		const utf8 = new TextEncoder()
		let i = 0
		const body = new ReadableStream<Uint8Array>({
			pull(ctrl) {
				let batch = ''
				for (let k = 0; k < 500 && i < n; k++, i++) batch += JSON.stringify({ i, value: i * 0.5 }) + '\n'
				ctrl.enqueue(utf8.encode(batch))
				if (i >= n) ctrl.close()
			}
		})
		const res = await fetch(`${this.url}/ingest`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-ndjson' },
			body,
			signal: AbortSignal.timeout(OP_TIMEOUT_MS)
		})
		const got = (await res.json()) as { n?: number }
		if (got.n !== n) throw new Error(`ingest: ${res.status} ${JSON.stringify(got)}, expected ${n} records`)
	}

	/** Uploads a file of a random size under one of a few names, then downloads it and compares sizes. */
	async upload(worker: number): Promise<void> {
		const name = `soak-${worker}-${random(0, 4)}.bin`
		const size = random(1, 2 * 1024 * 1024)
		const res = await fetch(`${this.url}/upload/${name}`, {
			method: 'POST',
			body: new Uint8Array(size).fill(worker),
			signal: AbortSignal.timeout(OP_TIMEOUT_MS)
		})
		const put = (await res.json()) as { bytes?: number }
		if (res.status !== 201 || put.bytes !== size)
			throw new Error(`upload: ${res.status} ${JSON.stringify(put)}, expected ${size} bytes`)
		const got = await (await fetch(`${this.url}/file/${name}`, { signal: AbortSignal.timeout(OP_TIMEOUT_MS) })).arrayBuffer()
		// Another loop of the same worker may not replace it meanwhile: names are per worker.
		if (got.byteLength !== size) throw new Error(`download: ${got.byteLength} bytes, expected ${size}`)
	}
}
