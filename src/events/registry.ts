import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import { encodeSse } from '../sse/encode'
import type { SseEvent } from '../sse/event'
import { OptionError, SluiceError } from '../errors'
import { EventDataError } from './error'
import type { EventSchemas, EventTypes } from './types'
import { isTextSchema, nonJsonPart } from './wire'

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value))

/**
 * A typed event registry: event name -> TypeBox schema. It types sends (a wrong
 * name or payload is a compile error), checks them at run time with compiled
 * checkers (an EventDataError, nothing sent), and tells clients how each
 * event's data travels: raw text when the schema accepts strings only, JSON
 * otherwise (strings included), so a reader decodes exactly what was sent.
 */
export class EventRegistry<S extends EventSchemas = EventSchemas> {
	/** Type-only: event name -> data type. */
	declare readonly Events: EventTypes<S>
	readonly names: readonly (keyof S & string)[]
	#text = new Map<string, boolean>()
	// Compiled on first check, so a browser client that only decodes never compiles (no eval under a CSP).
	#checkers = new Map<string, TypeCheck<TSchema>>()

	constructor(readonly schemas: S) {
		this.names = Object.keys(schemas)
		for (const name of this.names) {
			if (/[\r\n\0]/.test(name) || name === '')
				throw new OptionError(`sse event name ${JSON.stringify(name)}: must be non-empty, without CR, LF or NUL`)
			const bad = nonJsonPart(schemas[name]!)
			if (bad)
				throw new OptionError(
					`sse event "${name}": the schema at ${bad} cannot travel as JSON; use a JSON type (e.g. t.String({ format: 'date-time' }) for a date)`
				)
			this.#text.set(name, isTextSchema(schemas[name]!))
		}
	}

	/** Whether `event` is registered. */
	has(event: string): event is keyof S & string {
		return this.#text.has(event)
	}

	/** Whether `event`'s data is sent as raw text (its schema accepts strings only). */
	isText(event: keyof S & string): boolean {
		return this.#text.get(event) ?? false
	}

	/**
	 * Throws an EventDataError naming the event and the first failing path when
	 * `event` is unknown or `data` does not match its schema.
	 */
	check(event: string, data: unknown): void {
		const checker = this.#checker(event)
		if (checker.Check(data)) return
		const first = checker.Errors(data).First()
		throw new EventDataError(event, first?.path ?? '', first?.message ?? 'invalid data')
	}

	/** Whether `data` is valid for `event`. */
	is<K extends keyof S & string>(event: K | string, data: unknown): data is EventTypes<S>[K] {
		return this.has(event) && this.#checker(event).Check(data)
	}

	/**
	 * Checks `data`, then returns its text as it goes in the `data:` field:
	 * the string itself for a text event, JSON for any other, undefined for no data.
	 */
	wire(event: string, data: unknown): string | undefined {
		this.check(event, data)
		if (data === undefined) return undefined
		return this.#text.get(event) ? (data as string) : JSON.stringify(data)
	}

	/** Checks and encodes one event as an SSE frame (for broadcast: encode once, write many). */
	encode<K extends keyof S & string>(
		event: K,
		data: EventTypes<S>[K],
		options: Omit<SseEvent, 'event' | 'data'> = {}
	): string {
		return encodeSse({ ...options, event, data: this.wire(event, data) })
	}

	/**
	 * The value of a received `data:` text, for a client: the text itself for a
	 * text event, parsed JSON for any other ('' means no data: undefined).
	 */
	decode<K extends keyof S & string>(event: K, text: string): EventTypes<S>[K] {
		if (this.#text.get(event)) return text as EventTypes<S>[K]
		return (text === '' ? undefined : JSON.parse(text)) as EventTypes<S>[K]
	}

	/** A registry of some of these events, e.g. to limit one route to them. */
	pick<K extends keyof S & string>(...names: K[]): EventRegistry<Pick<S, K>> {
		const picked = {} as Pick<S, K>
		for (const name of names) {
			if (!this.has(name)) throw new SluiceError('EVENT_UNKNOWN', `sse event "${name}" is not registered`)
			picked[name] = this.schemas[name]
		}
		return new EventRegistry(picked)
	}

	/**
	 * An OpenAPI `detail` for a route that streams these events: a
	 * `text/event-stream` response whose schema is one entry per event name.
	 */
	openapi(description = 'Server-Sent Events') {
		const oneOf = this.names.map((name) => ({
			type: 'object',
			title: name,
			description: this.#text.get(name)
				? `event: ${name}, data sent as raw text`
				: `event: ${name}, data sent as JSON`,
			required: ['event', 'data'],
			properties: {
				event: { type: 'string', const: name, enum: [name] },
				id: { type: 'string' },
				data: clone(this.schemas[name])
			}
		}))
		return {
			responses: {
				200: { description, content: { 'text/event-stream': { schema: { oneOf } } } }
			}
		}
	}

	#checker(event: string): TypeCheck<TSchema> {
		let checker = this.#checkers.get(event)
		if (checker) return checker
		if (!this.has(event))
			throw new EventDataError(event, '', `not a registered event (known: ${this.names.join(', ') || 'none'})`)
		checker = TypeCompiler.Compile(this.schemas[event]!)
		this.#checkers.set(event, checker)
		return checker
	}
}

/**
 * Registers event schemas by name.
 *
 * @example
 * const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })
 */
export const events = <S extends EventSchemas>(schemas: S): EventRegistry<S> => new EventRegistry(schemas)

/** Event name -> data type of a registry. */
export type EventsOf<R> = R extends EventRegistry<infer S> ? EventTypes<S> : never
