import { BlockList, isIP } from 'node:net'

/**
 * Which socket peers are proxies whose forwarding header is believed: IP
 * addresses and CIDR ranges (IPv4 or IPv6; an IPv4-mapped `::ffff:a.b.c.d`
 * peer matches IPv4 ranges), the names `'loopback'`, `'private'` and
 * `'linklocal'`, or a function of the peer's address.
 */
export type TrustProxy = readonly string[] | ((address: string) => boolean)

/** The forwarding header a trusted proxy writes. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded'

/** How a stream's client address is found. */
export interface ClientAddressOptions {
	/** Peers whose forwarding header names the client (see TrustProxy). @default none: the socket's peer is the client */
	trustProxy?: TrustProxy
	/**
	 * The header the trusted proxies write. Only that one is read: a proxy passes
	 * the other on as the client sent it, so reading it would let a client choose
	 * its address. @default 'x-forwarded-for'
	 */
	proxyHeader?: ProxyHeader
}

const NAMED: Record<string, string[]> = {
	loopback: ['127.0.0.0/8', '::1/128'],
	private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
	linklocal: ['169.254.0.0/16', 'fe80::/10']
}

/** A test of an address against `trust`; a clear error for an entry that is not an address or a range. */
export function proxyMatcher(trust: TrustProxy): (address: string) => boolean {
	if (typeof trust === 'function') return trust
	const list = new BlockList()
	for (const entry of trust) for (const range of NAMED[entry] ?? [entry]) addRange(list, range)
	return (address) => {
		const family = isIP(address)
		return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6')
	}
}

function addRange(list: BlockList, range: string): void {
	const [ip = '', bits, extra] = range.split('/')
	const family = isIP(ip)
	const max = family === 4 ? 32 : 128
	const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN
	if (!family || extra !== undefined || !(prefix <= max))
		throw new TypeError(
			`connections.trustProxy: "${range}" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8), 'loopback', 'private' or 'linklocal'`
		)
	list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6')
}

/** `addr` as counted: an IPv4-mapped IPv6 address as plain IPv4, IPv6 in lower case. */
export function plainAddress(addr: string): string {
	if (addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4) return addr.slice(7)
	return addr.includes(':') ? addr.toLowerCase() : addr
}

/** One hop of a forwarding header as an IP address (brackets, port and quotes removed), or undefined. */
function hopAddress(hop: string): string | undefined {
	let text = hop.trim()
	if (text.startsWith('"') && text.endsWith('"') && text.length > 1) text = text.slice(1, -1).replace(/\\(.)/g, '$1')
	if (text.startsWith('[')) text = text.slice(1, text.indexOf(']'))
	else if (text.indexOf(':') !== -1 && text.indexOf(':') === text.lastIndexOf(':')) text = text.slice(0, text.indexOf(':'))
	return isIP(text) ? plainAddress(text) : undefined
}

/** The `for=` value of each element of a `Forwarded` header (RFC 7239), client first. */
export function forwardedFor(value: string): string[] {
	const hops: string[] = []
	for (const element of splitUnquoted(value, ',')) {
		const pair = splitUnquoted(element, ';').find((p) => /^\s*for\s*=/i.test(p))
		hops.push(pair ? pair.slice(pair.indexOf('=') + 1) : '')
	}
	return hops
}

function splitUnquoted(value: string, separator: string): string[] {
	const parts: string[] = []
	let start = 0
	let quoted = false
	for (let i = 0; i < value.length; i++) {
		const c = value[i]
		if (c === '\\' && quoted) i++
		else if (c === '"') quoted = !quoted
		else if (c === separator && !quoted) {
			parts.push(value.slice(start, i))
			start = i + 1
		}
	}
	parts.push(value.slice(start))
	return parts
}

/**
 * Finds a request's client address. Without `trustProxy` it is the socket's
 * peer. With it, a trusted peer's forwarding header is read from the right
 * (each proxy appends the address it saw): the first address that is not
 * trusted is the client. A hop that is not an IP address ends the walk at the
 * proxy that wrote it; if every hop is trusted, the left-most is the client.
 */
export function clientAddressOf({
	trustProxy,
	proxyHeader = 'x-forwarded-for'
}: ClientAddressOptions = {}): (request: Request, peer: string | undefined) => string | undefined {
	if (!trustProxy) return untrustedPeer()
	const trusted = proxyMatcher(trustProxy)
	return (request, peer) => {
		if (peer === undefined) return undefined
		let client = plainAddress(peer)
		if (!trusted(client)) return client
		const value = request.headers.get(proxyHeader)
		if (!value) return client
		const hops = proxyHeader === 'forwarded' ? forwardedFor(value) : value.split(',')
		for (let i = hops.length - 1; i >= 0; i--) {
			const hop = hopAddress(hops[i]!)
			if (hop === undefined) return client
			client = hop
			if (!trusted(hop)) return hop
		}
		return client
	}
}

const proxyLike = proxyMatcher(['loopback', 'private'])

/** The peer is the client; once per process, a warning if a proxy seems to forward to a server that trusts none. */
function untrustedPeer(): (request: Request, peer: string | undefined) => string | undefined {
	let warned = false
	// Streams come from few peers at a time (one, behind a proxy): the last one's check is kept.
	let lastPeer: string | undefined
	let lastClient = ''
	let lastProxyLike = false
	return (request, peer) => {
		if (peer === undefined) return undefined
		if (peer !== lastPeer) {
			lastPeer = peer
			lastClient = plainAddress(peer)
			lastProxyLike = proxyLike(lastClient)
		}
		const client = lastClient
		if (!warned && lastProxyLike && (request.headers.has('x-forwarded-for') || request.headers.has('forwarded'))) {
			warned = true
			console.warn(
				`[sluice] stream requests from ${client} carry a forwarding header but connections.trustProxy is unset: ` +
					`a proxy's clients all count as ${client} (docs/production.md#trusted-proxies)`
			)
		}
		return client
	}
}
