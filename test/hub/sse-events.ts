import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** Every complete event in `text`, parsed by eventsource-parser (the oracle). */
export function parseEvents(text: string): EventSourceMessage[] {
	const out: EventSourceMessage[] = []
	createParser({ onEvent: (e) => out.push(e) }).feed(text)
	return out
}

/** The ids of the events named `event` in `text`. */
export const idsOf = (text: string, event = 'tick') =>
	parseEvents(text)
		.filter((e) => e.event === event)
		.map((e) => Number(e.id))

import net from 'node:net'

/**
 * A raw SSE reader that keeps only a count of bytes and the last bytes seen:
 * for tests that push many megabytes (RawClient keeps everything).
 */
export class TailReader {
	bytes = 0
	tail = ''
	/** The highest id seen in an `id:` line. */
	maxId = 0
	closed = false
	constructor(readonly socket: net.Socket) {
		socket.setEncoding('latin1')
		socket.on('data', (d: string) => {
			this.bytes += d.length
			const text = this.tail + d
			for (const m of text.matchAll(/\nid: (\d+)\n|^id: (\d+)\n/g)) this.maxId = Math.max(this.maxId, Number(m[1] ?? m[2]))
			this.tail = text.slice(-64)
		})
		socket.on('close', () => (this.closed = true))
		socket.on('error', () => {})
	}

	static async get(port: number, path: string): Promise<TailReader> {
		const socket = net.connect(port, '127.0.0.1')
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', resolve)
			socket.once('error', reject)
		})
		socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
		return new TailReader(socket)
	}

	/** True once the frame with this id (or a later one) has arrived. */
	has(id: string | number): boolean {
		return this.maxId >= Number(id)
	}
}
