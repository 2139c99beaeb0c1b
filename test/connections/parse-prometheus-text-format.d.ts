declare module 'parse-prometheus-text-format' {
	interface ParsedSample {
		value: string
		labels?: Record<string, string>
	}
	interface ParsedFamily {
		name: string
		help: string
		type: string
		metrics: ParsedSample[]
	}
	export default function parsePrometheusTextFormat(text: string): ParsedFamily[]
}
