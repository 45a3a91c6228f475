import type { KeyFilter } from "../sdk/triggers.js";

/** Who receives what: event consumers by topic (with key filters), and each queue's consumer id. */
export interface Subscription {
  /** "f:<function>" */
  consumer: string;
  topic: string;
  filter: KeyFilter;
}

export const queueConsumer = (queue: string) => `q:${queue}`;
export const functionConsumer = (name: string) => `f:${name}`;

export class Subscriptions {
  private readonly byTopic = new Map<string, Subscription[]>();

  constructor(subscriptions: Subscription[]) {
    for (const subscription of subscriptions) {
      let list = this.byTopic.get(subscription.topic);
      if (list === undefined) this.byTopic.set(subscription.topic, (list = []));
      list.push(subscription);
    }
  }

  /** Consumers of an event with this topic and key. */
  consumers(topic: string, key: string | undefined): string[] {
    const list = this.byTopic.get(topic);
    if (list === undefined) return [];
    const out: string[] = [];
    for (const { consumer, filter } of list) {
      if (filter.prefix !== undefined && !(key ?? "").startsWith(filter.prefix)) continue;
      if (filter.suffix !== undefined && !(key ?? "").endsWith(filter.suffix)) continue;
      out.push(consumer);
    }
    return out;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }
}
