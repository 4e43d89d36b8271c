/*
 * Binary min-heap of simulator events keyed by (time, seq). Push and pop
 * are O(log n); the heap grows by doubling and never shrinks (a simulation
 * reaches its peak population of in-flight events early and stays near
 * it). Events are 40 bytes and payloads stay outside the heap, so a sift
 * moves little memory.
 */
#include "event.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

int sim_queue_init(sim_queue *q, uint64_t start, size_t max_pending,
                   uint64_t max_events) {
  if (q == NULL)
    return SIM_ERR_INVALID_ARGUMENT;
  memset(q, 0, sizeof *q);
  q->now = start;
  q->max_pending = max_pending;
  q->max_events = max_events;
  return 0;
}

void sim_queue_free(sim_queue *q) {
  if (q == NULL)
    return;
  free(q->heap);
  q->heap = NULL;
  q->len = q->cap = 0;
}

/* before returns 1 if |a| must run before |b|. */
static int before(const sim_event *a, const sim_event *b) {
  if (a->time != b->time)
    return a->time < b->time;
  return a->seq < b->seq;
}

static int grow(sim_queue *q) {
  size_t cap = q->cap ? q->cap * 2 : 1024;
  if (cap > SIZE_MAX / sizeof(sim_event))
    return SIM_ERR_NOMEM;
  sim_event *heap = realloc(q->heap, cap * sizeof(sim_event));
  if (heap == NULL)
    return SIM_ERR_NOMEM;
  q->heap = heap;
  q->cap = cap;
  return 0;
}

static void sift_up(sim_event *heap, size_t i) {
  sim_event ev = heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(&ev, &heap[parent]))
      break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = ev;
}

static void sift_down(sim_event *heap, size_t len, size_t i) {
  sim_event ev = heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= len)
      break;
    if (child + 1 < len && before(&heap[child + 1], &heap[child]))
      child++;
    if (!before(&heap[child], &ev))
      break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = ev;
}

int sim_queue_push(sim_queue *q, uint64_t time, uint16_t kind, uint32_t node,
                   uint64_t aux, void *ptr) {
  SIM_ASSERT(time >= q->now);
  if (q->max_pending != 0 && q->len >= q->max_pending)
    return SIM_ERR_LIMIT;
  if (q->len == q->cap) {
    int rv = grow(q);
    if (rv != 0)
      return rv;
  }
  sim_event *ev = &q->heap[q->len];
  ev->time = time;
  ev->seq = q->next_seq++;
  ev->ptr = ptr;
  ev->aux = aux;
  ev->node = node;
  ev->kind = kind;
  sift_up(q->heap, q->len);
  q->len++;
  return 0;
}

int sim_queue_pop(sim_queue *q, sim_event *out) {
  if (q->len == 0)
    return 0;
  if (q->max_events != 0 && q->popped >= q->max_events)
    return SIM_ERR_LIMIT;
  *out = q->heap[0];
  q->len--;
  if (q->len > 0) {
    q->heap[0] = q->heap[q->len];
    sift_down(q->heap, q->len, 0);
  }
  SIM_ASSERT(out->time >= q->now); /* the heap invariant, checked */
  q->now = out->time;
  q->popped++;
  return 1;
}

const sim_event *sim_queue_peek(const sim_queue *q) {
  return q->len > 0 ? &q->heap[0] : NULL;
}
