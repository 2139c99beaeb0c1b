import { SseClient, type ConnectOptions } from './connect'

/** What a tab tells the worker. */
export type WorkerNote =
	| { type: 'want'; name: string; tab: string; url: string; param: string; topics: string[]; options: ConnectOptions }
	| { type: 'bye'; name: string; tab: string }

interface Reader {
	port: MessagePort
	topics: Set<string>
}

/** One shared stream: the readers of one name, and the connection for the union of their topics. */
interface Group {
	url: string
	param: string
	options: ConnectOptions
	readers: Map<string, Reader>
	client?: SseClient
	/** The union of topics the open connection carries. */
	key: string
	cursor?: string
	reopen: boolean
}

/**
 * The body of a SharedWorker that holds the shared streams of shareTopics()
 * (its `worker` option): one connection per stream name for every tab of the
 * origin, for the union of their topics, reopened with the last id when the
 * union changes; each tab's port gets its topics' events. A page's own file
 * calls it, and the app serves that file bundled:
 *
 * @example
 * // share-worker.ts, served as /share-worker.js
 * import { shareWorker } from 'sluice/client'
 * shareWorker()
 */
export function shareWorker(scope: { onconnect: ((event: MessageEvent) => void) | null } = globalThis as never): void {
	const groups = new Map<string, Group>()
	scope.onconnect = (event: MessageEvent) => {
		const port = event.ports[0]!
		port.onmessage = (message: { data: unknown }) => note(port, message.data as WorkerNote)
	}

	function note(port: MessagePort, n: WorkerNote): void {
		let group = groups.get(n.name)
		if (n.type === 'bye') {
			group?.readers.delete(n.tab)
			if (group && group.readers.size === 0) {
				groups.delete(n.name)
				group.reopen = false
				group.client?.close()
			} else if (group) reconcile(group)
			return
		}
		if (!group) {
			// A stream the page had before (its reader replaced) resumes where that one was.
			group = { url: n.url, param: n.param, options: n.options, readers: new Map(), key: '', reopen: false, cursor: n.options.lastEventId }
			groups.set(n.name, group)
		}
		group.readers.set(n.tab, { port, topics: new Set(n.topics) })
		if (group.client) reconcile(group)
		else void lead(n.name, group)
	}

	function unionOf(group: Group): string {
		const all = new Set<string>()
		for (const reader of group.readers.values()) for (const topic of reader.topics) all.add(topic)
		return [...all].sort().join(',')
	}

	function reconcile(group: Group): void {
		if (unionOf(group) === group.key) return
		group.reopen = true
		group.client?.close()
	}

	async function lead(name: string, group: Group): Promise<void> {
		while (groups.get(name) === group) {
			group.key = unionOf(group)
			const target = new URL(group.url)
			target.searchParams.set(group.param, group.key)
			const client = (group.client = new SseClient(target, { ...group.options, lastEventId: group.cursor }))
			try {
				for await (const m of client) {
					if (m.id !== undefined) group.cursor = m.id
					const topic = (m as { topic?: string }).topic
					for (const reader of group.readers.values())
						if (topic === undefined || reader.topics.has(topic)) reader.port.postMessage({ type: 'frame', m })
				}
			} catch (error) {
				for (const reader of group.readers.values()) reader.port.postMessage({ type: 'failed', message: (error as Error).message })
				groups.delete(name)
				return
			}
			if (!group.reopen) {
				groups.delete(name)
				for (const reader of group.readers.values()) reader.port.postMessage({ type: 'ended' })
				return
			}
			group.reopen = false
		}
	}
}
