// What the dashboard's data stream sends, as the page reads it. No imports: the page's script
// is type-checked with the DOM library (browser/tsconfig.json), apart from the server's code.
// The server's types (Connection, ConnectionCounts, Trouble) fit these shapes.

/** Live counts: total, and per route, topic, client address and kind. */
export interface CountsWire {
	total: number
	byRoute: Record<string, number>
	byTopic: Record<string, number>
	byAddress: Record<string, number>
	byKind: Record<string, number>
}

/** One row of the connection table. */
export interface ConnectionWire {
	id: number
	kind: string
	route: string
	topics: string[]
	address?: string
	userAgent?: string
	startedAt: number
	bytesSent: number
	eventsSent: number
	unsentBytes: number
}

/** A page of the connection table (`event: connections`). */
export interface ConnectionsPage {
	offset: number
	limit: number
	total: number
	rows: ConnectionWire[]
}

/** What happened during one second (or one interval, scaled to per second). */
export interface RateSample {
	/** End of the interval, milliseconds since the epoch. */
	at: number
	opened: number
	closed: number
	events: number
	bytes: number
}

/** One trouble as the dashboard lists it (see Trouble), and when. */
export interface TroubleEntry {
	kind: string
	route?: string
	address?: string
	id?: number
	count: number
	detail?: string
	/** Milliseconds since the epoch. */
	at: number
}

/** Trouble counts by kind, and the last few of each kind, newest first. */
export interface TroubleSummary {
	counts: Record<string, number>
	recent: Record<string, TroubleEntry[]>
}

/** What one process tells the others about itself. */
export interface ProcessReport {
	id: string
	host: string
	pid: number
	/** Streams open in that process, in total and by kind. */
	total: number
	byKind: Record<string, number>
	draining: boolean
}

/** A process as the dashboard shows it. */
export interface ProcessRow extends ProcessReport {
	/** When this process last heard from it (ms since the epoch); now for this process. */
	lastSeen: number
	/** True for the process serving the page. */
	self: boolean
}

/** What every viewer is sent on each update (`event: summary`), encoded once for all. */
export interface DashboardSummary {
	at: number
	processId: string
	draining: boolean
	/**
	 * This process's counts: the numbers of `/connections`, without `byAddress`
	 * (the table has the addresses), and `byTopic` cut to the busiest topics.
	 */
	counts: CountsWire
	/** Counts summed over every process of the transport (this process's alone with memory()), cut the same way. */
	cluster: CountsWire | undefined
	/** Topics with subscribers here (or in the cluster), of which `byTopic` lists the busiest `TOPICS_SHOWN`. */
	topicCount: number
	/** Streams of this process subscribed to a topic (one per topic it follows). */
	subscriptions: number
	processes: ProcessRow[]
	trouble: TroubleSummary
	/** The latest rate sample. */
	rate: RateSample | undefined
}
