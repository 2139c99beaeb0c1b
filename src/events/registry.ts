import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import { encodeSse } from '../sse/encode'
import type { SseEvent } from '../sse/event'
import { OptionError, SluiceError } from '../errors'
import { EventDataError } from './error'
import type { EventSchemas, EventTypes } from './types'
import { EventCodec } from './codec'

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value))

/**
 * A typed event registry: event name -> TypeBox schema. It types sends (a wrong
 * name or payload is a compile error), checks them at run time with compiled
 * checkers (an EventDataError, nothing sent), and tells clients how each
 * event's data travels: raw text when the schema accepts strings only, JSON
 * otherwise (strings included), so a reader decodes exactly what was sent.
 * (A client that only reads needs the schemas alone: EventCodec, from
 * `sluice/client`, without the compiler.)
 */
export class EventRegistry<S extends EventSchemas = EventSchemas> extends EventCodec<S> {
	// Compiled on first check, so a registry that only decodes never compiles (no eval under a CSP).
	#checkers = new Map<string, TypeCheck<TSchema>>()

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
		return this.text.get(event) ? (data as string) : JSON.stringify(data)
	}

	/** Checks and encodes one event as an SSE frame (for broadcast: encode once, write many). */
	encode<K extends keyof S & string>(
		event: K,
		data: EventTypes<S>[K],
		options: Omit<SseEvent, 'event' | 'data'> = {}
	): string {
		return encodeSse({ ...options, event, data: this.wire(event, data) })
	}

	/** A registry of some of these events, e.g. to limit one route to them. */
	pick<K extends keyof S & string>(...names: K[]): EventRegistry<Pick<S, K>> {
		return new EventRegistry(this.picked(names))
	}

	/**
	 * An OpenAPI `detail` for a route that streams these events: a
	 * `text/event-stream` response whose schema is one entry per event name.
	 */
	openapi(description = 'Server-Sent Events') {
		const oneOf = this.names.map((name) => ({
			type: 'object',
			title: name,
			description: this.text.get(name)
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

export type { EventsOf } from './codec'
