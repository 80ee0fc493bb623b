/* SPDX-License-Identifier: BSD-3-Clause */
/* Set-up paths of the SPSC ring; the data path is inline in ivsh_ring.h. */
#include "ivsh_ring.h"

static bool ring_params_ok(uint32_t count, uint32_t esize)
{
	return count != 0 && count <= IVSH_RING_MAX_SIZE &&
	       (count & (count - 1)) == 0 && esize != 0;
}

size_t ivsh_ring_mem_size(uint32_t count, uint32_t esize)
{
	if (!ring_params_ok(count, esize))
		return 0;
	return IVSH_RING_ELEMS_OFF + (size_t)count * esize;
}

static int ring_mem_check(const void *mem, size_t len, uint32_t count,
			  uint32_t esize)
{
	if (mem == NULL || ((uintptr_t)mem & 63) != 0 ||
	    !ring_params_ok(count, esize))
		return -EINVAL;
	if (len < ivsh_ring_mem_size(count, esize))
		return -ENOSPC;
	return 0;
}

static ivsh_ring_idx_t *ring_prod_idx(void *mem)
{
	return (ivsh_ring_idx_t *)mem;
}

static ivsh_ring_idx_t *ring_cons_idx(void *mem)
{
	return (ivsh_ring_idx_t *)((uint8_t *)mem + IVSH_RING_LINE);
}

int ivsh_ring_mem_init(void *mem, size_t len, uint32_t count, uint32_t esize,
		       uint32_t start)
{
	int rc = ring_mem_check(mem, len, count, esize);

	if (rc < 0)
		return rc;
	memset(mem, 0, ivsh_ring_mem_size(count, esize));
	/* Published to the peers by whatever hands the memory over. */
	atomic_store_explicit(ring_prod_idx(mem), start, memory_order_relaxed);
	atomic_store_explicit(ring_cons_idx(mem), start, memory_order_relaxed);
	return 0;
}

int ivsh_ring_prod_init_split(struct ivsh_ring_prod *p,
			      ivsh_ring_idx_t *prod_idx,
			      const ivsh_ring_idx_t *cons_idx, void *elems,
			      uint32_t count, uint32_t esize)
{
	if (p == NULL || prod_idx == NULL || cons_idx == NULL ||
	    elems == NULL || !ring_params_ok(count, esize))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->prod_idx = prod_idx;
	p->cons_idx = cons_idx;
	p->elems = elems;
	p->size = count;
	p->mask = count - 1;
	p->esize = esize;
	/* Own index: nobody else writes it. */
	p->head = atomic_load_explicit(prod_idx, memory_order_relaxed);
	/* Pessimistic until the first refresh: "ring full". */
	p->cons_cache = p->head - count;
	return 0;
}

int ivsh_ring_cons_init_split(struct ivsh_ring_cons *c,
			      ivsh_ring_idx_t *cons_idx,
			      const ivsh_ring_idx_t *prod_idx,
			      const void *elems, uint32_t count,
			      uint32_t esize)
{
	if (c == NULL || prod_idx == NULL || cons_idx == NULL ||
	    elems == NULL || !ring_params_ok(count, esize))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->cons_idx = cons_idx;
	c->prod_idx = prod_idx;
	c->elems = elems;
	c->size = count;
	c->mask = count - 1;
	c->esize = esize;
	c->head = atomic_load_explicit(cons_idx, memory_order_relaxed);
	c->prod_cache = c->head; /* "empty" until the first refresh */
	return 0;
}

int ivsh_ring_prod_init(struct ivsh_ring_prod *p, void *mem, size_t len,
			uint32_t count, uint32_t esize)
{
	int rc = ring_mem_check(mem, len, count, esize);

	if (rc < 0)
		return rc;
	return ivsh_ring_prod_init_split(p, ring_prod_idx(mem),
					 ring_cons_idx(mem),
					 (uint8_t *)mem + IVSH_RING_ELEMS_OFF,
					 count, esize);
}

int ivsh_ring_cons_init(struct ivsh_ring_cons *c, void *mem, size_t len,
			uint32_t count, uint32_t esize)
{
	int rc = ring_mem_check(mem, len, count, esize);

	if (rc < 0)
		return rc;
	return ivsh_ring_cons_init_split(c, ring_cons_idx(mem),
					 ring_prod_idx(mem),
					 (uint8_t *)mem + IVSH_RING_ELEMS_OFF,
					 count, esize);
}

int ivsh_ring_cons_skip_to(struct ivsh_ring_cons *c, uint32_t idx)
{
	/* Acquire: pairs with the producer's release in prod_commit. */
	uint32_t pi = atomic_load_explicit(c->prod_idx, memory_order_acquire);
	uint32_t skip = idx - c->head;

	if (pi - c->head > c->size || skip > pi - c->head)
		return -ERANGE;
	c->prod_cache = pi;
	c->peeked = 0;
	c->head = idx;
	/* Release: pairs with the producer's acquire in prod_free. */
	atomic_store_explicit(c->cons_idx, idx, memory_order_release);
	return (int)skip;
}
