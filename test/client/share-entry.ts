// The page of test/client/share.test.ts: reads the topics of its query through one stream
// shared by every tab (sluice/client's shareTopics) and records what it gets.
import { shareTopics } from '../../src/client'

const query = new URLSearchParams((globalThis as any).location.search)
const topics = (query.get('t') ?? '').split(',')
// ?worker=1: the stream lives in a SharedWorker; else the tabs elect a leader.
const feed = shareTopics('/live', topics, { retryMs: 100, worker: query.get('worker') ? '/share-worker.js' : undefined })
const state = globalThis as unknown as { got: { topic?: string; data: string }[]; leader: () => boolean; failed?: string }
state.got = []
state.leader = () => feed.leader
void (async () => {
	try {
		for await (const m of feed) if (m.event === 'msg') state.got.push({ topic: m.topic, data: m.data })
	} catch (error) {
		state.failed = String(error)
	}
})()
