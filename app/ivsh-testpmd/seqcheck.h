/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-side sequence accounting for one stream of numbered frames.
 *
 * A frame ahead of the next expected number opens a gap: the skipped
 * numbers count as lost at once. A frame behind it is looked up in a
 * window of the last SEQ_WINDOW numbers: if its number was missing it
 * moves from lost to reordered (it arrived late, not never); if it was
 * already seen it is a duplicate. Older than the window: counted as
 * reordered and taken off lost (a duplicate that old cannot be told
 * apart). A new sender session restarts the stream at 0.
 * Numbers are u32 compared with serial-number arithmetic, so wrap is fine.
 */
#ifndef TESTPMD_SEQCHECK_H
#define TESTPMD_SEQCHECK_H

#include <stdbool.h>
#include <stdint.h>

#define SEQ_WINDOW 4096u

struct seq_counts {
	uint64_t in_order;   /* exactly the next expected number */
	uint64_t lost;       /* numbers skipped and not (yet) seen */
	uint64_t reordered;  /* arrived after a higher number */
	uint64_t duplicated; /* seen twice */
	uint64_t stale;      /* from an earlier sender session */
	uint64_t sessions;   /* sender sessions seen */
};

struct seq_stream {
	bool started;
	uint32_t session, prev_session;
	uint32_t next;                   /* next expected number */
	uint64_t seen[SEQ_WINDOW / 64];  /* bit (n % SEQ_WINDOW): n arrived */
};

/** Account one valid frame. */
void seq_account(struct seq_stream *s, struct seq_counts *c,
		 uint32_t session, uint32_t seq);

#endif /* TESTPMD_SEQCHECK_H */
