import { afterEach, describe, expect, spyOn, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming, type ConnectionsOptions } from '../../plugins'
import { clientAddressOf, proxyMatcher } from '../../src/connections/client-address'
import { listen, until, type TestServer } from '../support/server'
import { RawClient } from '../support/raw-http'

let server: TestServer | undefined
const clients: RawClient[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	await server?.stop()
	server = undefined
})

describe('proxyMatcher: addresses, CIDR ranges and names', () => {
	test('IPv4 and IPv6 ranges; an IPv4-mapped IPv6 peer matches IPv4 ranges', () => {
		const trusted = proxyMatcher(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '2001:db8::1'])
		expect(trusted('127.0.0.1')).toBe(true)
		expect(trusted('127.0.0.2')).toBe(false)
		expect(trusted('10.200.3.4')).toBe(true)
		expect(trusted('11.0.0.1')).toBe(false)
		expect(trusted('::ffff:10.1.2.3')).toBe(true)
		expect(trusted('::ffff:127.0.0.1')).toBe(true)
		expect(trusted('::ffff:11.1.2.3')).toBe(false)
		expect(trusted('fd12:3456::1')).toBe(true)
		expect(trusted('fe80::1')).toBe(false)
		expect(trusted('2001:db8::1')).toBe(true)
		expect(trusted('2001:db8::2')).toBe(false)
		expect(trusted('not an address')).toBe(false)
	})

	test("'loopback', 'private' and 'linklocal' name their ranges", () => {
		const trusted = proxyMatcher(['loopback', 'private', 'linklocal'])
		for (const a of ['127.0.0.1', '127.9.9.9', '::1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fdff::1', '169.254.1.1', 'fe80::1'])
			expect([a, trusted(a)]).toEqual([a, true])
		for (const a of ['172.32.0.1', '192.169.0.1', '8.8.8.8', '2001:db8::1', '::2'])
			expect([a, trusted(a)]).toEqual([a, false])
	})

	test('an entry that is not an address or a range is a clear error', () => {
		for (const bad of ['localhost', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/', '10.0.0.0/8/8', '1.2.3', '10.0.0.0/x'])
			expect(() => proxyMatcher([bad])).toThrow(`connections.trustProxy: "${bad}" is not an IP address`)
	})
})

describe('clientAddressOf: the right-most untrusted hop', () => {
	const req = (headers: Record<string, string>) => new Request('http://x/', { headers })

	test('without trustProxy the socket peer is the client, whatever the headers say', () => {
		const of = clientAddressOf()
		expect(of(req({ 'x-forwarded-for': '203.0.113.7' }), '198.51.100.1')).toBe('198.51.100.1')
		expect(of(req({}), '::ffff:198.51.100.1')).toBe('198.51.100.1')
		expect(of(req({}), undefined)).toBeUndefined()
	})

	test('X-Forwarded-For from a trusted peer, read from the right', () => {
		const of = clientAddressOf({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] })
		const xff = (value: string, peer = '127.0.0.1') => of(req({ 'x-forwarded-for': value }), peer)
		expect(xff('203.0.113.7')).toBe('203.0.113.7')
		// The client wrote the left part; each proxy appended the peer it saw.
		expect(xff('6.6.6.6, 203.0.113.7')).toBe('203.0.113.7')
		expect(xff('6.6.6.6, 203.0.113.7, 10.1.1.1')).toBe('203.0.113.7')
		expect(xff('203.0.113.7', '198.51.100.9')).toBe('198.51.100.9')
		expect(xff('203.0.113.7', '::ffff:10.0.0.2')).toBe('203.0.113.7')
		// Every hop trusted: the left-most is the client.
		expect(xff('10.0.0.5, 10.0.0.6')).toBe('10.0.0.5')
		// A hop that is not an address ends the walk at the proxy that wrote it.
		expect(xff('garbage')).toBe('127.0.0.1')
		expect(xff('203.0.113.7, garbage, 10.0.0.9')).toBe('10.0.0.9')
		expect(xff('')).toBe('127.0.0.1')
		// Ports, brackets and case, as some proxies write them.
		expect(xff('203.0.113.7:4711')).toBe('203.0.113.7')
		expect(xff('[2001:DB8::17]:4711')).toBe('2001:db8::17')
		expect(xff('2001:db8::17')).toBe('2001:db8::17')
		expect(xff('::ffff:203.0.113.7')).toBe('203.0.113.7')
		expect(of(req({}), '127.0.0.1')).toBe('127.0.0.1')
	})

	test("Forwarded (RFC 7239) with proxyHeader: 'forwarded'; only the configured header is read", () => {
		const of = clientAddressOf({ trustProxy: ['loopback'], proxyHeader: 'forwarded' })
		const fwd = (value: string) => of(req({ forwarded: value, 'x-forwarded-for': '6.6.6.6' }), '127.0.0.1')
		expect(fwd('for=203.0.113.7')).toBe('203.0.113.7')
		expect(fwd('for=6.6.6.6, for=203.0.113.7;proto=https;by=127.0.0.1')).toBe('203.0.113.7')
		expect(fwd('For="[2001:db8:cafe::17]:4711"')).toBe('2001:db8:cafe::17')
		expect(fwd('for="203.0.113.7:80";host="a,b"')).toBe('203.0.113.7')
		expect(fwd('for=unknown')).toBe('127.0.0.1')
		expect(fwd('proto=https')).toBe('127.0.0.1')
		// X-Forwarded-For is the client's own text when the proxy writes Forwarded: never read.
		expect(of(req({ 'x-forwarded-for': '6.6.6.6' }), '127.0.0.1')).toBe('127.0.0.1')
		const xffOnly = clientAddressOf({ trustProxy: ['loopback'] })
		expect(xffOnly(req({ forwarded: 'for=6.6.6.6' }), '127.0.0.1')).toBe('127.0.0.1')
	})

	test('a function decides which peers are trusted', () => {
		const of = clientAddressOf({ trustProxy: (a) => a.startsWith('127.') })
		expect(of(req({ 'x-forwarded-for': '203.0.113.7' }), '127.0.0.5')).toBe('203.0.113.7')
		expect(of(req({ 'x-forwarded-for': '203.0.113.7' }), '10.0.0.1')).toBe('10.0.0.1')
	})
})

describe('over the wire: quotas and the connection list use the real client', () => {
	function start(connections: ConnectionsOptions) {
		const app = new Elysia()
			.use(streaming({ connections }))
			.get('/s', ({ sse }) => sse(async (s) => void (await s.sleep(60_000))))
		server = listen(app)
		return { registry: app.decorator.connections, port: server.port }
	}
	async function open(port: number, forwardedFor?: string) {
		const client = await RawClient.request(port, '/s', {
			headers: forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}
		})
		clients.push(client)
		await client.waitFor((c) => c.status > 0)
		return client.status
	}

	test('a spoofed X-Forwarded-For from an untrusted peer is ignored (one warning says how to trust a proxy)', async () => {
		const warn = spyOn(console, 'warn').mockImplementation(() => {})
		try {
			const { registry, port } = start({ maxPerAddress: 2 })
			expect(await open(port, '203.0.113.7')).toBe(200)
			expect(await open(port, '203.0.113.8')).toBe(200)
			// Another spoofed address does not buy another quota.
			expect(await open(port, '203.0.113.9')).toBe(429)
			expect(registry.counts().byAddress).toEqual({ '127.0.0.1': 2 })
			expect(registry.list().map((c) => c.address)).toEqual(['127.0.0.1', '127.0.0.1'])
			expect(warn).toHaveBeenCalledTimes(1)
			expect(String(warn.mock.calls[0]![0])).toContain('trustProxy')
		} finally {
			warn.mockRestore()
		}
	})

	test('a peer outside trustProxy is not believed either', async () => {
		const { registry, port } = start({ maxPerAddress: 2, trustProxy: ['10.0.0.0/8'] })
		await open(port, '203.0.113.7')
		expect(registry.counts().byAddress).toEqual({ '127.0.0.1': 1 })
	})

	test('from a trusted proxy, each real client has its own quota and shows in the list', async () => {
		const { registry, port } = start({ maxPerAddress: 2, trustProxy: ['127.0.0.1'] })
		expect(await open(port, '203.0.113.7')).toBe(200)
		// The client's own X-Forwarded-For is on the left: it does not change who it is.
		expect(await open(port, '6.6.6.6, 203.0.113.7')).toBe(200)
		expect(await open(port, '7.7.7.7, 203.0.113.7')).toBe(429)
		expect(await open(port, '203.0.113.8')).toBe(200)
		expect(await open(port)).toBe(200)
		await until(() => registry.count === 4)
		expect(registry.counts().byAddress).toEqual({ '203.0.113.7': 2, '203.0.113.8': 1, '127.0.0.1': 1 })
		expect(registry.list().map((c) => c.address)).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.8', '127.0.0.1'])
	})
})
