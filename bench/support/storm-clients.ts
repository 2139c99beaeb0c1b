// SSE subscribers on raw sockets (Bun.connect) that check the ids they receive: each
// reads the chunked HTTP body, finds every `id:` line, and counts gaps and duplicates
// against the last id it saw, across reconnects when it resumed with Last-Event-ID.
import type { Socket } from 'bun'

const HEAD_END = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')
const SLOW = '\nevent: sluice:slow-consumer\n'
const INCOMPLETE = '\nevent: sluice:replay-incomplete\n'

/** One subscriber's state, over all its connections. */
export interface StormClient {
	/** The last (highest) id received; -1 before any. */
	lastId: number
	/** Ids skipped: a frame whose id was more than one past the last. */
	gaps: number
	/** Frames received again (an id not above the last). */
	dups: number
	/** Times it was sent `sluice:slow-consumer` (and closed). */
	cutOff: number
	/** Times it was sent `sluice:replay-incomplete`. */
	incomplete: number
	/** When the current connection's first body bytes arrived. */
	backAt: number | undefined
	/** When it first received an id above `target`. */
	caughtAt: number | undefined
	/** Frames received on the current connection. */
	frames: number
	/** Frames received on the current connection with an id up to `target`: the replay. */
	replayed: number
	/** Connections opened so far: a closed socket's late close event must not touch the next. */
	connection: number
	/** Whether the next id must follow the last one (false until the first id of a fresh start). */
	continuous: boolean
	/** The current connection is open. */
	open: boolean
	// Parser state of the current connection.
	head: Buffer | undefined
	chunkLeft: number
	/** Body bytes left when the response has a Content-Length (a stream closed before Bun's first pull). */
	lengthLeft: number | undefined
	sizeLine: Buffer | undefined
	carry: string
}

const fresh = (): StormClient => ({
	lastId: -1,
	gaps: 0,
	dups: 0,
	cutOff: 0,
	incomplete: 0,
	backAt: undefined,
	caughtAt: undefined,
	frames: 0,
	replayed: 0,
	connection: 0,
	continuous: false,
	open: false,
	head: Buffer.alloc(0),
	chunkLeft: -2,
	lengthLeft: undefined,
	sizeLine: undefined,
	carry: ''
})

/** N subscribers of GET `path` on one port. */
export class StormClients {
	readonly clients: StormClient[]
	/** An id: a client is caught up once it has received one above it. */
	target = Infinity
	#sockets: (Socket<StormClient> | undefined)[]
	#waiters: (() => void)[] = []

	constructor(
		n: number,
		readonly path = '/sub'
	) {
		this.clients = Array.from({ length: n }, fresh)
		this.#sockets = Array(n).fill(undefined)
	}

	/**
	 * Connects every client to `port` at once (in batches of `batch`, or all together);
	 * with `resume`, each sends its last id as Last-Event-ID and must continue from it.
	 */
	async connect(port: number, { resume = false, batch = Infinity } = {}): Promise<void> {
		const n = this.clients.length
		for (let i = 0; i < n; i += batch) {
			const end = Math.min(n, i + batch)
			const opening: Promise<unknown>[] = []
			for (let k = i; k < end; k++) opening.push(this.#open(k, port, resume))
			await Promise.all(opening)
		}
	}

	#open(k: number, port: number, resume: boolean): Promise<unknown> {
		const c = this.clients[k]!
		const lastEventId = resume && c.lastId >= 0 ? `Last-Event-ID: ${c.lastId}\r\n` : ''
		Object.assign(c, { backAt: undefined, caughtAt: undefined, frames: 0, replayed: 0, open: true })
		Object.assign(c, { head: Buffer.alloc(0), chunkLeft: -2, lengthLeft: undefined, sizeLine: undefined, carry: '' })
		c.continuous = lastEventId !== ''
		const connection = ++c.connection
		const request = `GET ${this.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${lastEventId}\r\n`
		return Bun.connect<StormClient>({
			hostname: '127.0.0.1',
			port,
			data: c,
			socket: {
				open: (s) => void s.write(request),
				data: (s, chunk) => {
					// The response ended: like EventSource, the client closes, free to reconnect.
					if (this.#read(s.data, chunk)) {
						c.open = false
						s.end()
						this.#wake()
					}
				},
				close: () => {
					if (c.connection === connection) c.open = false
					this.#wake()
				},
				error: () => {}
			}
		}).then(
			(socket) => (this.#sockets[k] = socket),
			() => (c.open = false)
		)
	}

	/** Drops every connection at once, without a clean close. */
	dropAll(): void {
		for (const s of this.#sockets) s?.terminate()
		this.#sockets.fill(undefined)
		for (const c of this.clients) c.open = false
	}

	/** Resolves true once `predicate` holds, false after `ms`. */
	async until(predicate: () => boolean, ms: number): Promise<boolean> {
		const end = performance.now() + ms
		while (!predicate()) {
			if (performance.now() > end) return false
			await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), Bun.sleep(20)])
		}
		return true
	}

	#wake() {
		for (const w of this.#waiters.splice(0)) w()
	}

	/** Takes the HTTP head, then the body's data (chunked, or of a Content-Length). True once the body has ended. */
	#read(c: StormClient, data: Buffer): boolean {
		let at = 0
		if (c.head) {
			const head = Buffer.concat([c.head, data])
			const end = head.indexOf(HEAD_END)
			if (end === -1) {
				c.head = head
				return false
			}
			const length = /\r\ncontent-length: *(\d+)/i.exec(head.subarray(0, end).toString('latin1'))
			if (length) c.lengthLeft = Number(length[1])
			c.head = undefined
			data = head
			at = end + 4
		}
		if (c.lengthLeft !== undefined) {
			const take = Math.min(c.lengthLeft, data.length - at)
			if (take > 0) this.#body(c, data.subarray(at, at + take))
			c.lengthLeft -= take
			return c.lengthLeft === 0
		}
		while (at < data.length) {
			if (c.chunkLeft > 0) {
				const take = Math.min(c.chunkLeft, data.length - at)
				this.#body(c, data.subarray(at, at + take))
				c.chunkLeft -= take
				at += take
				if (c.chunkLeft === 0) c.chunkLeft = -1 // the CRLF after the data
				continue
			}
			// A size line (-2) or the CRLF ending a chunk's data (-1): read up to the next CRLF.
			const line = c.sizeLine ? Buffer.concat([c.sizeLine, data.subarray(at)]) : data.subarray(at)
			const end = line.indexOf(CRLF)
			if (end === -1) {
				c.sizeLine = Buffer.from(line)
				return false
			}
			const consumed = end + 2 - (c.sizeLine?.length ?? 0)
			c.sizeLine = undefined
			at += consumed
			if (c.chunkLeft === -1) c.chunkLeft = -2
			else {
				c.chunkLeft = Number.parseInt(line.subarray(0, end).toString('latin1'), 16)
				// A size of 0 is the last chunk: the body ended.
				if (!(c.chunkLeft > 0)) return true
			}
		}
		return false
	}

	/** Scans body bytes for `id:` lines and the hub's own events; a line cut in two waits for its end. */
	#body(c: StormClient, bytes: Buffer) {
		if (c.backAt === undefined) c.backAt = performance.now()
		const text = c.carry + bytes.toString('latin1')
		const lastNewline = text.lastIndexOf('\n')
		if (lastNewline === -1) {
			c.carry = text
			return
		}
		// Every line this scan completes starts at a newline before `lastNewline`.
		for (let i = text.indexOf('\nid: '); i !== -1 && i < lastNewline; i = text.indexOf('\nid: ', i + 5)) {
			const eol = text.indexOf('\n', i + 5)
			this.#id(c, Number(text.slice(i + 5, eol)))
		}
		if (text.includes(SLOW)) c.cutOff++
		if (text.includes(INCOMPLETE)) c.incomplete++
		c.carry = text.slice(lastNewline)
		this.#wake()
	}

	#id(c: StormClient, id: number) {
		c.frames++
		if (id <= this.target) c.replayed++
		if (c.continuous && c.lastId >= 0) {
			if (id <= c.lastId) c.dups++
			else if (id > c.lastId + 1) c.gaps += id - c.lastId - 1
		}
		c.continuous = true
		if (id > c.lastId) c.lastId = id
		if (c.caughtAt === undefined && id > this.target) c.caughtAt = performance.now()
	}

	/** Ends every connection. */
	close(): void {
		for (const s of this.#sockets) s?.terminate()
		this.#sockets.fill(undefined)
	}
}
