// examples/topics.ts as a process: one stream of many topics, a topic added and removed on it
// by an ordinary POST that the app authorizes, and the page served with its shared reader.
import { afterAll, expect, test } from 'bun:test'
import { createParser } from 'eventsource-parser'
import { RawClient } from '../support/raw-http'
import { startExample, type ExampleProcess } from '../support/example'

const running: ExampleProcess[] = []
afterAll(async () => {
	for (const p of running) await p.stop()
})

const topicsOf = (text: string) => {
	const out: string[] = []
	let topic = ''
	createParser({
		onEvent: (e) => e.event === 'item' && out.push(topic),
		onError: (e) => void (e.type === 'unknown-field' && e.field === 'topic' && (topic = e.value ?? ''))
	}).feed(text)
	return out
}

test('examples/topics.ts: topics of one stream, added and removed by POST', async () => {
	const app = await startExample('topics', { env: { TOPICS_INTERVAL_MS: '20' } })
	running.push(app)
	const post = (body: object) =>
		fetch(`${app.url}/live/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
	expect((await fetch(`${app.url}/live?topics=news,secret`)).status).toBe(403)
	const c = await RawClient.request(Number(new URL(app.url).port), '/live?topics=news,prices')
	await c.waitFor((x) => /sluice-connection: \d+/i.test(x.head))
	const connection = Number(/sluice-connection: (\d+)/i.exec(c.head)![1])
	await c.waitFor((x) => new Set(topicsOf(x.body)).size === 2, 5000)
	expect(new Set(topicsOf(c.body))).toEqual(new Set(['news', 'prices']))

	expect((await post({ connection, action: 'add', topic: 'secret' })).status).toBe(403)
	expect((await post({ connection: connection + 1000, action: 'add', topic: 'weather' })).status).toBe(404)
	const added = await post({ connection, action: 'add', topic: 'weather', last: 2 })
	expect(added.status).toBe(200)
	expect(((await added.json()) as { topics: string[] }).topics.sort()).toEqual(['news', 'prices', 'weather'])
	await c.waitFor((x) => topicsOf(x.body).includes('weather'), 5000)

	expect((await post({ connection, action: 'remove', topic: 'news' })).status).toBe(200)
	const at = topicsOf(c.body).length
	await c.waitFor((x) => topicsOf(x.body).length >= at + 6, 5000)
	// After the removal took effect (a frame already written may still be arriving), no news.
	expect(topicsOf(c.body).slice(at + 2)).not.toContain('news')
	c.destroy()
	const page = await fetch(`${app.url}/`)
	expect(await page.text()).toContain('shareTopics')
	expect((await fetch(`${app.url}/topics-client.js`)).status).toBe(200)
	expect(await (await fetch(`${app.url}/topics-worker.js`)).text()).toContain('onconnect')
})
