// The examples' admin routes answer the holder of ADMIN_TOKEN only, whatever
// address the request comes from or claims to come from.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startExample, type ExampleProcess } from './support/example'
import { RawClient } from './support/raw-http'

const running: ExampleProcess[] = []
const dirs: string[] = []
afterAll(async () => {
	for (const p of running.splice(0)) await p.stop()
	for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function example(name: string, env: Record<string, string> = {}) {
	const process = await startExample(name, { env })
	running.push(process)
	return process
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
// What a same-host proxy adds for a remote client: it must neither open nor close a door.
const remote = { 'x-forwarded-for': '203.0.113.7' }

describe('examples/managed-stream.ts: /connections, /connections/watch, /metrics', () => {
	const routes = ['/connections', '/connections/watch', '/metrics']

	test('no token: 401 asking for one; a wrong token: 403; the token: 200 (X-Forwarded-For changes nothing)', async () => {
		const { url } = await example('managed-stream', { ADMIN_TOKEN: 'right-token' })
		for (const path of routes) {
			for (const headers of [{}, remote]) {
				const missing = await fetch(url + path, { headers })
				expect([path, missing.status]).toEqual([path, 401])
				expect(missing.headers.get('www-authenticate')).toBe('Bearer')
				expect(await missing.json()).toEqual({ error: 'admin token required: Authorization: Bearer <token>' })
				for (const wrong of ['wrong-token', 'right-toke', 'right-tokenx', '']) {
					const refused = await fetch(url + path, { headers: { ...headers, ...bearer(wrong) } })
					expect([path, wrong, refused.status]).toEqual([path, wrong, wrong ? 403 : 401])
					await refused.arrayBuffer()
				}
			}
			const allowed = await fetch(url + path, { headers: { ...remote, ...bearer('right-token') } })
			expect([path, allowed.status]).toEqual([path, 200])
			await allowed.body?.cancel()
		}
		const snapshot = (await (await fetch(url + '/connections', { headers: bearer('right-token') })).json()) as any
		expect(snapshot.counts).toMatchObject({ total: 0 })
	})

	test('with ADMIN_TOKEN unset, a token is made, printed in the startup write, and is the one that works', async () => {
		const { url, output } = await example('managed-stream', { ADMIN_TOKEN: '' })
		const token = output().match(/admin token \(ADMIN_TOKEN was not set, so one was made\): (\S+)/)?.[1]
		expect(token).toMatch(/^[\w-]{32}$/)
		expect((await fetch(`${url}/metrics`, { headers: bearer(token!) })).status).toBe(200)
		expect((await fetch(`${url}/metrics`, { headers: bearer('x'.repeat(32)) })).status).toBe(403)
		// Another start makes another token.
		const other = await example('managed-stream', { ADMIN_TOKEN: '' })
		expect(other.output()).not.toContain(token!)
	})

	test('with TRUST_PROXY, the connection list shows the client the proxy names', async () => {
		const { url } = await example('managed-stream', { ADMIN_TOKEN: 't', TRUST_PROXY: '127.0.0.1' })
		const client = await RawClient.request(Number(new URL(url).port), '/managed-stream', { headers: remote })
		try {
			await client.waitFor((c) => c.status === 200)
			const snapshot = (await (await fetch(`${url}/connections`, { headers: bearer('t') })).json()) as any
			expect(snapshot.connections.map((c: { address: string }) => c.address)).toEqual(['203.0.113.7'])
		} finally {
			client.destroy()
		}
	})
})

describe('examples/download.ts: ?overwrite=1', () => {
	test('replacing a file needs the token; a new file does not', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'sluice-admin-'))
		dirs.push(dir)
		const { url } = await example('download', { UPLOADS_DIR: dir, ADMIN_TOKEN: 'right-token' })
		const upload = (query: string, headers: Record<string, string> = {}, body = 'new') =>
			fetch(`${url}/upload/sample.txt${query}`, { method: 'POST', body, headers })

		const missing = await upload('?overwrite=1', remote)
		expect(missing.status).toBe(401)
		expect((await upload('?overwrite=true', bearer('wrong'))).status).toBe(403)
		expect((await upload('?overwrite=1', { ...remote, ...bearer('wrong') })).status).toBe(403)
		// Refused: the file is as it was.
		expect(await (await fetch(`${url}/download/sample.txt`)).text()).toStartWith('Hello from Sluice!')
		// Without overwrite nobody replaces it, with or without a token.
		expect((await upload('')).status).toBe(409)

		const replaced = await upload('?overwrite=1', bearer('right-token'), 'replaced')
		expect(replaced.status).toBe(201)
		expect(await (await fetch(`${url}/download/sample.txt`)).text()).toBe('replaced')
		expect((await fetch(`${url}/upload/fresh.txt`, { method: 'POST', body: 'f' })).status).toBe(201)
	})
})

describe('the dashboard of examples/managed-stream.ts and examples/chat.ts', () => {
	for (const name of ['managed-stream', 'chat']) {
		test(`${name}: printed on a line that says "dashboard"; the token's holder gets in through ?token=, nobody else`, async () => {
			const { url, output } = await example(name, { ADMIN_TOKEN: '' })
			const printed = output().split('\n').find((line) => line.includes('dashboard'))
			const link = printed?.match(/(http:\/\/\S+\/_sluice\?token=(\S+))/)
			expect(link).not.toBeNull()
			const token = link![2]!
			for (const path of ['/_sluice', '/_sluice/app.js', '/_sluice/feed']) {
				expect([path, (await fetch(url + path, { headers: remote })).status]).toEqual([path, 401])
				expect([path, (await fetch(url + path, { headers: bearer('nope') })).status]).toEqual([path, 403])
			}
			expect((await fetch(`${url}/_sluice?token=nope`, { redirect: 'manual' })).status).toBe(403)
			const wayIn = await fetch(`${url}/_sluice?token=${token}`, { redirect: 'manual' })
			expect(wayIn.status).toBe(303)
			const cookie = wayIn.headers.get('set-cookie')!.split(';')[0]!
			const page = await fetch(`${url}/_sluice`, { headers: { cookie } })
			expect(page.status).toBe(200)
			expect(await page.text()).toContain('Sluice connections')
			expect((await fetch(`${url}/_sluice`, { headers: bearer(token) })).status).toBe(200)
		})
	}
})
