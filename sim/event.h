/*
 * The simulator's discrete-event queue: a binary min-heap ordered by
 * (time, sequence number). The sequence number is the insertion order, so
 * events due at the same nanosecond run first-in first-out and a run never
 * depends on how the heap happens to break ties (libuv's timer rule).
 *
 * Time never runs backward: the queue remembers the time of the last event
 * popped ("now"), and pushing an event before now is a broken contract
 * caught by SIM_ASSERT (active in release builds too).
 *
 * Two caps keep a runaway scenario from eating the machine: |max_pending|
 * bounds the events waiting in the heap (memory), |max_events| bounds the
 * events popped over the queue's life (time), as ngtcp2's simulator does.
 */
#ifndef NOINTRUDE_SIM_EVENT_H
#define NOINTRUDE_SIM_EVENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_event {
  uint64_t time; /* ns since the Unix epoch (a dht_time) */
  uint64_t seq;  /* insertion order: breaks ties between equal times */
  void *ptr;     /* payload, owned by whoever handles |kind| */
  uint64_t aux;  /* kind-specific word (a timer generation, an index) */
  uint32_t node; /* host index the event is for */
  uint16_t kind; /* what happens; the world dispatches on it */
} sim_event;

typedef struct sim_queue {
  sim_event *heap;     /* heap[0] is the earliest event */
  size_t len, cap;     /* events held, slots allocated */
  size_t max_pending;  /* push beyond this fails (0 = no cap) */
  uint64_t max_events; /* pops allowed over the queue's life (0 = none) */
  uint64_t next_seq;   /* sequence number of the next push */
  uint64_t now;        /* time of the last popped event, ns */
  uint64_t popped;     /* events popped so far */
} sim_queue;

/* sim_queue_init prepares |q| with clock |start| (ns), at most
 * |max_pending| queued events and |max_events| pops (0 = unlimited for
 * either). Returns 0 or SIM_ERR_INVALID_ARGUMENT. */
int sim_queue_init(sim_queue *q, uint64_t start, size_t max_pending,
                   uint64_t max_events);

/* sim_queue_free releases the heap of |q|. Payloads of events still
 * queued are the caller's (drain with sim_queue_pop first). */
void sim_queue_free(sim_queue *q);

/* sim_queue_push schedules an event of |kind| for host |node| at |time|
 * (ns, which must be >= the queue's now: asserted) carrying |aux| and
 * |ptr|. Returns 0, SIM_ERR_LIMIT (max_pending reached) or
 * SIM_ERR_NOMEM. */
int sim_queue_push(sim_queue *q, uint64_t time, uint16_t kind, uint32_t node,
                   uint64_t aux, void *ptr);

/* sim_queue_pop removes the earliest event into |out| and advances the
 * queue's now to its time. Returns 1 if an event was popped, 0 if the
 * queue is empty, SIM_ERR_LIMIT once max_events events were popped. */
int sim_queue_pop(sim_queue *q, sim_event *out);

/* sim_queue_peek returns the earliest event without removing it, or NULL
 * when the queue is empty. The pointer is valid until the next push or
 * pop. */
const sim_event *sim_queue_peek(const sim_queue *q);

#endif /* NOINTRUDE_SIM_EVENT_H */
