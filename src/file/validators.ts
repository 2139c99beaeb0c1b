import type { Stats } from 'node:fs'

/** How the ETag is made: strong (allows If-Range), weak, or none. */
export type EtagMode = 'strong' | 'weak' | false

/** The validators of one file: its ETag and Last-Modified. */
export interface Validators {
	etag: string | undefined
	/** Last-Modified in whole seconds since the epoch (HTTP dates have no finer grain); undefined when not used. */
	modifiedSeconds: number | undefined
	lastModified: string | undefined
}

/**
 * ETag and Last-Modified from a file's size and modification time, as nginx
 * does: no hashing, so it costs nothing and changes whenever the file does.
 * `suffix` (e.g. `-br`) marks a content-coded representation of it.
 */
export function validatorsOf(stats: Stats, mode: EtagMode = 'strong', lastModified = true, suffix = ''): Validators {
	// A compressed representation's tag carries its coding: it never matches the identity bytes' tag.
	const tag = `"${Math.floor(stats.mtimeMs).toString(16)}-${stats.size.toString(16)}${suffix}"`
	const modifiedSeconds = lastModified ? Math.floor(stats.mtimeMs / 1000) : undefined
	return {
		etag: mode === false ? undefined : mode === 'weak' ? `W/${tag}` : tag,
		modifiedSeconds,
		lastModified: modifiedSeconds === undefined ? undefined : new Date(modifiedSeconds * 1000).toUTCString()
	}
}

/** The entity tags of an If-Match / If-None-Match value, or '*' for any. */
function tagsOf(value: string): string[] | '*' {
	if (value.trim() === '*') return '*'
	return value.match(/(?:W\/)?"[^"]*"/g) ?? []
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and equal. */
export const strongMatch = (a: string, b: string) => !a.startsWith('W/') && !b.startsWith('W/') && a === b

/** Weak comparison: equal once any W/ is dropped. */
export const weakMatch = (a: string, b: string) => opaque(a) === opaque(b)

/** An HTTP date in seconds, or undefined if it does not parse. */
export function parseHttpDate(value: string): number | undefined {
	const ms = Date.parse(value)
	return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/** The outcome of a request's preconditions: go on, 304 Not Modified or 412 Precondition Failed. */
export type Precondition = 'proceed' | 304 | 412

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since
 * in the order of RFC 9110 §13.2.2. Invalid dates are ignored, as the RFC asks.
 */
export function evaluatePreconditions(method: string, headers: Headers, v: Validators): Precondition {
	const safe = method === 'GET' || method === 'HEAD'
	const ifMatch = headers.get('if-match')
	if (ifMatch !== null) {
		const tags = tagsOf(ifMatch)
		if (tags !== '*' && !(v.etag && tags.some((t) => strongMatch(t, v.etag!)))) return 412
	} else {
		const since = headers.get('if-unmodified-since')
		const date = since === null ? undefined : parseHttpDate(since)
		if (date !== undefined && v.modifiedSeconds !== undefined && v.modifiedSeconds > date) return 412
	}
	const ifNoneMatch = headers.get('if-none-match')
	if (ifNoneMatch !== null) {
		const tags = tagsOf(ifNoneMatch)
		if (tags === '*' || (v.etag && tags.some((t) => weakMatch(t, v.etag!)))) return safe ? 304 : 412
	} else if (safe) {
		const since = headers.get('if-modified-since')
		const date = since === null ? undefined : parseHttpDate(since)
		if (date !== undefined && v.modifiedSeconds !== undefined && v.modifiedSeconds <= date) return 304
	}
	return 'proceed'
}

/**
 * True when a Range should be honoured under If-Range (RFC 9110 §13.1.5): no
 * If-Range, an entity tag that strongly matches, or a date equal to
 * Last-Modified. Anything else (a weak tag, another date, garbage) sends the
 * whole file.
 */
export function ifRangeHolds(headers: Headers, v: Validators): boolean {
	const value = headers.get('if-range')
	if (value === null) return true
	const trimmed = value.trim()
	if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return v.etag !== undefined && strongMatch(trimmed, v.etag)
	const date = parseHttpDate(trimmed)
	return date !== undefined && v.modifiedSeconds !== undefined && date === v.modifiedSeconds
}
