import { encodeSseBytes } from '../../sse'
import type { Transport } from '../../hub/transport'
import { clusterConnectionCounts } from '../cluster-counts'
import type { ConnectionCounts, ConnectionRegistry } from '../registry'
import { ProcessBoard } from './processes'
import { Rates } from './rates'
import { TroubleLog } from './trouble-log'
import type { ConnectionsPage, DashboardSummary } from './wire'

/** Options of a Dashboard. */
export interface DashboardOptions {
	/** Milliseconds between two rate samples and process reports. @default 1000 */
	tickMs?: number
	/** Rate samples kept for the chart. @default 300 (five minutes at one a second) */
	rateSamples?: number
	/** Troubles of each kind listed with time and route. @default 5 */
	troubleKept?: number
	/** At most one update per this many milliseconds as streams come and go. @default 250 */
	coalesceMs?: number
}

export type { DashboardSummary, ConnectionsPage }

/** Topics the summary lists at most, the busiest first: one per user would make every update huge. */
export const TOPICS_SHOWN = 100

/** Counts as every viewer gets them: no addresses, the busiest topics only (a summary stays small with thousands). */
function cut(counts: ConnectionCounts): ConnectionCounts {
	const topics = Object.entries(counts.byTopic)
	const byTopic = topics.length <= TOPICS_SHOWN ? counts.byTopic : Object.fromEntries(topics.sort((a, b) => b[1] - a[1]).slice(0, TOPICS_SHOWN))
	return { ...counts, byAddress: {}, byTopic }
}

type UpdateListener = (summary: DashboardSummary, frame: Uint8Array) => void

/**
 * The dashboard's engine for one registry: trouble log, per-second rates,
 * process rows, and a summary rebuilt once per tick and as streams come and
 * go (coalesced), encoded once as an SSE frame for every viewer.
 */
export class Dashboard {
	readonly trouble: TroubleLog
	readonly rates: Rates
	readonly processes: ProcessBoard
	#transport: Transport | undefined
	#listeners = new Set<UpdateListener>()
	#timer: Timer
	#pending: Timer | undefined
	#lastBuilt = -Infinity
	#latest: Promise<{ summary: DashboardSummary; frame: Uint8Array }> | undefined
	#offs: (() => void)[]
	readonly #coalesceMs: number

	constructor(
		readonly registry: ConnectionRegistry,
		options: DashboardOptions = {}
	) {
		const { tickMs = 1000, rateSamples = 300, troubleKept = 5, coalesceMs = 250 } = options
		this.#coalesceMs = coalesceMs
		this.trouble = new TroubleLog(troubleKept)
		this.rates = new Rates(() => {
			const { events, bytes } = registry.sent()
			return { opened: registry.opened, closed: registry.opened - registry.count, events, bytes }
		}, rateSamples)
		this.processes = new ProcessBoard(() => {
			const { total, byKind } = registry.counts({ addresses: false })
			return { total, byKind, draining: registry.draining }
		}, Math.max(10_000, 5 * tickMs))
		const changed = () => this.#changed()
		this.#offs = [
			registry.onTrouble((t) => this.trouble.add(t)),
			registry.onOpen(changed),
			registry.onClose(changed)
		]
		this.#timer = setInterval(() => this.#tick(), tickMs)
		this.#timer.unref?.()
	}

	/** Shares process rows and cluster counts over `transport` (the app's hub's), if any. */
	attach(transport: Transport | undefined): void {
		if (transport === this.#transport) return
		this.#transport = transport
		this.processes.attach(transport)
		this.processes.publish()
	}

	/** The current summary and its SSE frame (`event: summary`). */
	current(): Promise<{ summary: DashboardSummary; frame: Uint8Array }> {
		return (this.#latest ??= this.#build())
	}

	/** Runs `listener` with each new summary. Returns a remover. */
	onUpdate(listener: UpdateListener): () => void {
		this.#listeners.add(listener)
		return () => this.#listeners.delete(listener)
	}

	/** A page of this process's connections, oldest first. */
	page(offset: number, limit: number): ConnectionsPage {
		return { offset, limit, total: this.registry.count, rows: this.registry.slice(offset, limit) }
	}

	/** Stops the ticker and the listeners. */
	close(): void {
		clearInterval(this.#timer)
		clearTimeout(this.#pending)
		for (const off of this.#offs) off()
		this.processes.close()
		this.#listeners.clear()
	}

	#tick(): void {
		this.rates.sample()
		this.processes.publish()
		this.#update()
	}

	#changed(): void {
		this.#latest = undefined
		if (this.#pending !== undefined || this.#listeners.size === 0) return
		const wait = Math.max(0, this.#lastBuilt + this.#coalesceMs - performance.now())
		this.#pending = setTimeout(() => {
			this.#pending = undefined
			this.#update()
		}, wait)
	}

	#update(): void {
		this.#latest = undefined
		if (this.#listeners.size === 0) return
		const built = this.current()
		built.then(({ summary, frame }) => {
			if (this.#latest !== built) return
			for (const listener of [...this.#listeners]) listener(summary, frame)
		}, () => {})
	}

	async #build(): Promise<{ summary: DashboardSummary; frame: Uint8Array }> {
		this.#lastBuilt = performance.now()
		const registry = this.registry
		const counts = registry.counts({ addresses: false })
		const cluster = this.#transport ? await clusterConnectionCounts(this.#transport).catch(() => undefined) : undefined
		const topicCount = Object.keys((cluster ?? counts).byTopic).length
		const history = this.rates.history()
		const summary: DashboardSummary = {
			at: Date.now(),
			processId: this.processes.id,
			draining: registry.draining,
			counts: cut(counts),
			cluster: cluster && cut(cluster),
			topicCount,
			subscriptions: Object.values(counts.byTopic).reduce((a, b) => a + b, 0),
			processes: this.processes.rows(),
			trouble: this.trouble.summary(),
			rate: history[history.length - 1]
		}
		return { summary, frame: encodeSseBytes({ event: 'summary', data: summary }) }
	}
}
