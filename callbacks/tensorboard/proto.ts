/**
 * The TensorFlow protos an event file holds, declared with their field numbers from
 * tensorboard/compat/proto/{event,summary,histogram,graph,node_def}.proto. Only the fields kiln
 * writes are declared: a reader skips what it does not know, so the subset is wire-compatible.
 */
import protobuf from 'protobufjs';

const packed = { packed: true };

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: {
          oneofs: { what: { oneof: ['fileVersion', 'graphDef', 'summary'] } },
          fields: {
            wallTime: { type: 'double', id: 1 },
            step: { type: 'int64', id: 2 },
            fileVersion: { type: 'string', id: 3 },
            graphDef: { type: 'bytes', id: 4 },
            summary: { type: 'Summary', id: 5 },
          },
        },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simpleValue', 'histo'] } },
              fields: {
                tag: { type: 'string', id: 1 },
                simpleValue: { type: 'float', id: 2 },
                histo: { type: 'HistogramProto', id: 5 },
              },
            },
          },
        },
        HistogramProto: {
          fields: {
            min: { type: 'double', id: 1 },
            max: { type: 'double', id: 2 },
            num: { type: 'double', id: 3 },
            sum: { type: 'double', id: 4 },
            sumSquares: { type: 'double', id: 5 },
            bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: packed },
            bucket: { rule: 'repeated', type: 'double', id: 7, options: packed },
          },
        },
        GraphDef: { fields: { node: { rule: 'repeated', type: 'NodeDef', id: 1 } } },
        NodeDef: {
          fields: {
            name: { type: 'string', id: 1 },
            op: { type: 'string', id: 2 },
            input: { rule: 'repeated', type: 'string', id: 3 },
          },
        },
      },
    },
  },
});

export interface HistogramProto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edges: bucket i holds the values in (bucketLimit[i-1], bucketLimit[i]]. */
  bucketLimit: number[];
  bucket: number[];
}

export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: HistogramProto;
}

export interface NodeDef {
  name: string;
  op: string;
  input: string[];
}

export interface Event {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  graphDef?: Uint8Array;
  summary?: { value: SummaryValue[] };
}

const EventType = root.lookupType('tensorboard.Event');
const GraphDefType = root.lookupType('tensorboard.GraphDef');

export function encodeEvent(event: Event): Uint8Array {
  return EventType.encode(event).finish();
}

/** An event read back (kiln.utils.trainingReport reads TensorBoard logs); int64 steps as numbers. */
export function decodeEvent(bytes: Uint8Array): Event {
  return EventType.toObject(EventType.decode(bytes), { longs: Number }) as Event;
}

export function encodeGraphDef(nodes: NodeDef[]): Uint8Array {
  return GraphDefType.encode({ node: nodes }).finish();
}
