// What the topics page imports as /topics-client.js: sluice/client's shared reader, bundled by the example.
export { shareTopics } from 'sluice/client'
