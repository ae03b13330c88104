/** tablemq's TypeScript client: a batching producer with failover and a consumer that runs the group protocol. */
export { Producer, type ProducerOptions } from './producer';
export { Consumer, type ConsumerOptions, type RebalanceEvent } from './consumer';
export type { TransportOptions } from './transport';
export type { OutgoingMessage, ReceivedMessage, SendResult, Position } from './messages';
export {
  TablemqError,
  BrokerResponseError,
  RebalancedError,
  ConsumerExpiredError,
  BrokersUnavailableError,
  ProducerClosedError,
  BufferFullError,
  MessageTooLargeError,
  HandlerError,
} from './errors';
