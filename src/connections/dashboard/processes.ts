import { hostname } from 'node:os'
import { encodeSseBytes } from '../../sse'
import type { Transport } from '../../hub/transport'
import type { ProcessReport, ProcessRow } from './wire'

export type { ProcessReport, ProcessRow }

/** The topic the dashboards of one transport tell each other about their process on. */
export const PROCESSES_TOPIC = 'sluice:dashboard:processes'

const decoder = new TextDecoder()

/**
 * One row per process of a transport: each process's dashboard publishes its
 * own report on a topic of the transport every tick and listens for the
 * others'. A process not heard from for `forgetMs` is dropped. Through the
 * Transport interface only, so it works with any transport (with memory(),
 * the one row is this process).
 */
export class ProcessBoard {
	readonly host = hostname()
	readonly id = `${this.host}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`
	#others = new Map<string, ProcessRow>()
	#transport: Transport | undefined
	#unlisten: (() => void) | undefined

	constructor(
		private readonly report: () => Omit<ProcessReport, 'id' | 'host' | 'pid'>,
		private readonly forgetMs = 10_000
	) {}

	/** Starts sharing over `transport` (the app's hub's), if it has one. */
	attach(transport: Transport | undefined): void {
		if (transport === this.#transport) return
		this.#unlisten?.()
		this.#transport = transport
		this.#unlisten = transport?.listen(PROCESSES_TOPIC, (frame) => this.#heard(frame.bytes))
	}

	/** This process's report, as it is published. */
	own(): ProcessReport {
		return { id: this.id, host: this.host, pid: process.pid, ...this.report() }
	}

	/** Publishes this process's report; a transport that cannot publish (Redis away) is tried again next tick. */
	publish(): void {
		if (!this.#transport) return
		const body = encodeSseBytes({ event: 'process', data: JSON.stringify(this.own()) })
		try {
			this.#transport.publish(PROCESSES_TOPIC, body).catch(() => {})
		} catch {}
	}

	/** Every process heard from lately, this one first. */
	rows(now = Date.now()): ProcessRow[] {
		const rows: ProcessRow[] = [{ ...this.own(), lastSeen: now, self: true }]
		for (const [id, row] of this.#others) {
			if (now - row.lastSeen > this.forgetMs) this.#others.delete(id)
			else rows.push(row)
		}
		return rows
	}

	close(): void {
		this.#unlisten?.()
		this.#unlisten = undefined
	}

	#heard(bytes: Uint8Array): void {
		const line = decoder.decode(bytes).split('\n').find((l) => l.startsWith('data: '))
		if (!line) return
		let report: ProcessReport
		try {
			report = JSON.parse(line.slice(6))
		} catch {
			return
		}
		if (typeof report?.id !== 'string' || report.id === this.id) return
		// Bounded: a topic anyone on the transport can write to must not grow this without end.
		if (!this.#others.has(report.id) && this.#others.size >= 1000) return
		this.#others.set(report.id, { ...report, lastSeen: Date.now(), self: false })
	}
}
