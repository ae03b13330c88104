/**
 * A small min-cost max-flow solver for the assignment: integer capacities and costs (negative
 * costs allowed as long as the graph starts without a negative cycle). Primal-dual: shortest
 * distances by Bellman-Ford (queue-based), then blocking flows along the tight edges, so the
 * number of distance computations is the number of distinct path costs, not the flow value.
 *
 * Deterministic: edges are tried in the order they were added, so the same graph built the same
 * way always yields the same flow.
 */
export class MinCostFlow {
  private readonly to: number[] = [];
  private readonly cap: number[] = [];
  private readonly cost: number[] = [];
  private readonly adjacency: number[][];

  constructor(private readonly nodes: number) {
    this.adjacency = Array.from({ length: nodes }, () => []);
  }

  /** Adds an edge; returns its id, whose flow `flowOn` reads after `solve`. */
  addEdge(from: number, to: number, capacity: number, cost: number): number {
    const id = this.to.length;
    this.to.push(to, from);
    this.cap.push(capacity, 0);
    this.cost.push(cost, -cost);
    this.adjacency[from]?.push(id);
    this.adjacency[to]?.push(id + 1);
    return id;
  }

  /** Flow on an edge added by addEdge (its reverse edge holds exactly that much capacity). */
  flowOn(edge: number): number {
    return this.cap[edge + 1] ?? 0;
  }

  /** Pushes as much flow as possible from source to sink at the least total cost; returns the flow. */
  solve(source: number, sink: number): number {
    let total = 0;
    for (;;) {
      const dist = this.distances(source);
      if (dist[sink] === Infinity) return total;
      const tight = (edge: number, from: number): boolean =>
        (this.cap[edge] ?? 0) > 0 && dist[from]! + (this.cost[edge] ?? 0) === dist[this.to[edge]!];
      // Blocking flows on the tight subgraph until the sink is cut off from it; augmenting along
      // tight edges keeps `dist` valid, so no new distance computation is needed meanwhile.
      for (;;) {
        const level = this.levels(source, tight);
        if (level[sink] === -1) break;
        const next = new Array<number>(this.nodes).fill(0);
        for (let pushed = this.push(source, sink, Infinity, level, next, tight); pushed > 0; pushed = this.push(source, sink, Infinity, level, next, tight)) {
          total += pushed;
        }
      }
    }
  }

  /** Shortest distances from source over edges with capacity left (no negative cycles exist). */
  private distances(source: number): number[] {
    const dist = new Array<number>(this.nodes).fill(Infinity);
    const queued = new Array<boolean>(this.nodes).fill(false);
    dist[source] = 0;
    const queue = [source];
    queued[source] = true;
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!;
      queued[u] = false;
      for (const e of this.adjacency[u]!) {
        if (this.cap[e]! <= 0) continue;
        const v = this.to[e]!;
        const d = dist[u]! + this.cost[e]!;
        if (d < dist[v]!) {
          dist[v] = d;
          if (!queued[v]) {
            queued[v] = true;
            queue.push(v);
          }
        }
      }
    }
    return dist;
  }

  /** BFS levels over tight edges (levels keep the blocking-flow search off zero-cost cycles). */
  private levels(source: number, tight: (edge: number, from: number) => boolean): number[] {
    const level = new Array<number>(this.nodes).fill(-1);
    level[source] = 0;
    const queue = [source];
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!;
      for (const e of this.adjacency[u]!) {
        const v = this.to[e]!;
        if (level[v] === -1 && tight(e, u)) {
          level[v] = level[u]! + 1;
          queue.push(v);
        }
      }
    }
    return level;
  }

  private push(u: number, sink: number, limit: number, level: number[], next: number[], tight: (edge: number, from: number) => boolean): number {
    if (u === sink) return limit;
    const edges = this.adjacency[u]!;
    for (; next[u]! < edges.length; next[u]!++) {
      const e = edges[next[u]!]!;
      const v = this.to[e]!;
      if (level[v] !== level[u]! + 1 || !tight(e, u)) continue;
      const pushed = this.push(v, sink, Math.min(limit, this.cap[e]!), level, next, tight);
      if (pushed > 0) {
        this.cap[e]! -= pushed;
        this.cap[e ^ 1]! += pushed;
        return pushed;
      }
    }
    return 0;
  }
}
