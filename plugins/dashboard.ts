import { Elysia, type Context } from 'elysia'
import type { ConnectionRegistry } from '../src/connections'
import {
	CSRF_HEADER,
	Dashboard,
	PAGE_HEADERS,
	PageTokens,
	dashboardFeed,
	dashboardHtml,
	dashboardScript,
	fromSameOrigin,
	pageOf,
	tokenCookie,
	tokenCookieHeader
} from '../src/connections/dashboard'
import type { Hub } from '../src/hub'
import { streamContext } from './stream-context'
import type { ConnectionsGuard } from './connections'

/** What the dashboard's routes need of the connection manager, once the app has started. */
export interface DashboardHost {
	registry(): ConnectionRegistry
	hub(): Hub | undefined
}

const forbidden = () => Response.json({ error: 'forbidden' }, { status: 403 })

/** The context the guard sees for a browser that holds the token in the dashboard's cookie (or in `?token=`): a bearer header. */
function withBearer(context: Context, token: string): Context {
	const headers = new Headers(context.request.headers)
	headers.set('authorization', `Bearer ${token}`)
	return {
		...context,
		request: new Request(context.request.url, { method: context.request.method, headers }),
		headers: { ...context.headers, authorization: `Bearer ${token}` }
	}
}

/**
 * The dashboard at `path`: the page, its script (`/app.js`), its data stream
 * (`/feed`) and the close action (`POST /close/:id`), all behind `guard`.
 * A browser comes in once with `?token=`: the guard is asked with it as a
 * bearer token and, if it lets it in, the token is kept in an HttpOnly,
 * SameSite=Strict cookie of the dashboard's path, which later requests hand to
 * the guard the same way. The close action also needs a same-origin request
 * and the page's own token.
 */
export function dashboardRoutes(path: string, guard: ConnectionsGuard, host: DashboardHost) {
	const base = path.replace(/\/+$/, '') || ''
	const tokens = new PageTokens()
	let dashboard: Dashboard | undefined
	const dashboardOf = () => {
		const registry = host.registry()
		if (dashboard?.registry !== registry) {
			dashboard?.close()
			dashboard = new Dashboard(registry)
		}
		dashboard.attach(host.hub()?.transport)
		return dashboard
	}
	/** undefined when the guard lets the request in, else its answer. */
	const refusal = async (context: Context): Promise<Response | undefined> => {
		const cookie = context.request.headers.has('authorization') ? undefined : tokenCookie(context.request)
		const verdict = await guard(cookie ? withBearer(context, cookie) : context)
		if (verdict instanceof Response) return verdict
		return verdict ? undefined : forbidden()
	}
	const guarded =
		(handler: (context: Context) => Response | Promise<Response>) =>
		async (context: Context): Promise<Response> =>
			(await refusal(context)) ?? handler(context)

	return new Elysia()
		.onStart(() => void dashboardOf())
		.onStop(() => {
			dashboard?.close()
			dashboard = undefined
		})
		.get(base || '/', async (context: Context) => {
			const url = new URL(context.request.url)
			const token = url.searchParams.get('token')
			if (token === null) {
				const refused = await refusal(context)
				return refused ?? new Response(dashboardHtml(base, tokens.issue()), { headers: PAGE_HEADERS })
			}
			// The way in for a browser: the token once in the URL, then only in the cookie.
			const verdict = await guard(withBearer(context, token))
			if (verdict instanceof Response) return verdict
			if (!verdict) return forbidden()
			url.searchParams.delete('token')
			return new Response(null, {
				status: 303,
				headers: {
					location: base + (url.search || '') || '/',
					'set-cookie': tokenCookieHeader(token, base || '/', url.protocol === 'https:'),
					'cache-control': 'no-store',
					'referrer-policy': 'no-referrer'
				}
			})
		})
		.get(
			`${base}/app.js`,
			guarded(
				async () =>
					new Response(await dashboardScript(), {
						headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }
					})
			)
		)
		.get(
			`${base}/feed`,
			guarded((context) => {
				const ctx = streamContext(context, host.registry(), 'sse')
				return ctx.admit() ?? dashboardFeed(ctx, dashboardOf(), pageOf(new URL(context.request.url))).response
			})
		)
		.post(
			`${base}/close/:id`,
			guarded((context) => {
				if (!fromSameOrigin(context.request) || !tokens.check(context.request.headers.get(CSRF_HEADER)))
					return Response.json({ error: 'forbidden: the close action needs the page of this origin' }, { status: 403 })
				const id = Number((context.params as Record<string, string>).id)
				if (!Number.isSafeInteger(id)) return Response.json({ error: 'no such connection' }, { status: 404 })
				return host.registry().close(id, 'server')
					? Response.json({ closed: id })
					: Response.json({ error: 'no such connection' }, { status: 404 })
			})
		)
}
