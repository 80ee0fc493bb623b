/* SPDX-License-Identifier: BSD-3-Clause */
#include "seqcheck.h"

#include <string.h>

static void bit_set(struct seq_stream *s, uint32_t n, bool v)
{
	uint32_t i = n % SEQ_WINDOW;
	uint64_t m = 1ull << (i % 64);

	if (v)
		s->seen[i / 64] |= m;
	else
		s->seen[i / 64] &= ~m;
}

static bool bit_get(const struct seq_stream *s, uint32_t n)
{
	uint32_t i = n % SEQ_WINDOW;

	return s->seen[i / 64] >> (i % 64) & 1;
}

static void stream_restart(struct seq_stream *s, struct seq_counts *c,
			   uint32_t session)
{
	if (s->started)
		s->prev_session = s->session;
	s->started = true;
	s->session = session;
	s->next = 0;
	memset(s->seen, 0, sizeof(s->seen));
	c->sessions++;
}

void seq_account(struct seq_stream *s, struct seq_counts *c,
		 uint32_t session, uint32_t seq)
{
	if (!s->started || session != s->session) {
		if (s->started && session == s->prev_session) {
			c->stale++;
			return;
		}
		stream_restart(s, c, session);
	}

	uint32_t ahead = seq - s->next;

	if (ahead == 0) {
		bit_set(s, seq, true);
		s->next++;
		c->in_order++;
		return;
	}
	if ((int32_t)ahead > 0) {
		/* Gap: next..seq-1 missing. Clear their window bits (at most
		 * the whole window), mark seq seen. */
		uint32_t clear = ahead < SEQ_WINDOW ? ahead : SEQ_WINDOW;

		if (clear == SEQ_WINDOW)
			memset(s->seen, 0, sizeof(s->seen));
		else
			for (uint32_t i = 0; i < clear; i++)
				bit_set(s, s->next + i, false);
		c->lost += ahead;
		bit_set(s, seq, true);
		s->next = seq + 1;
		c->in_order++;
		return;
	}

	uint32_t behind = s->next - seq;

	if (behind <= SEQ_WINDOW) {
		if (bit_get(s, seq)) {
			c->duplicated++;
			return;
		}
		bit_set(s, seq, true);
	}
	c->reordered++;
	if (c->lost > 0)
		c->lost--;
}
