// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * An MPI program whose every result is checked, for running Open MPI
 * over siw (tests/vm/60-mpi.sh):
 *   - ping-pong between ranks 0 and 1 at every power of two from 1 B to
 *     4 MiB, and at a few sizes just off them: each message carries a
 *     pattern of its size, iteration and sender, the echo is the
 *     receiver's own pattern, and every byte is compared;
 *   - allreduce (sum) of vectors whose sum is known in closed form;
 *   - alltoall of blocks that name their sender, receiver and index.
 * Prints one line per phase; exits 1 at the first mismatch, saying where.
 *
 *   mpirun -n 2 ... siw_mpi_check [ITERATIONS]
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIZE (4u << 20)

static int rank, nranks;

static void die(const char *what)
{
	fprintf(stderr, "rank %d: %s\n", rank, what);
	MPI_Abort(MPI_COMM_WORLD, 1);
	exit(1);
}

static uint8_t pattern_byte(size_t size, int iter, int sender, size_t i)
{
	uint32_t x = (uint32_t)(i * 2654435761u) ^ (uint32_t)(size * 40503u) ^
		     (uint32_t)(iter * 977u) ^ (uint32_t)(sender * 131u);

	return (uint8_t)(x ^ (x >> 11) ^ (x >> 23));
}

static void fill(uint8_t *buf, size_t size, int iter, int sender)
{
	size_t i;

	for (i = 0; i < size; i++)
		buf[i] = pattern_byte(size, iter, sender, i);
}

static void check(const uint8_t *buf, size_t size, int iter, int sender)
{
	size_t i;

	for (i = 0; i < size; i++) {
		if (buf[i] != pattern_byte(size, iter, sender, i)) {
			char msg[160];

			snprintf(msg, sizeof(msg),
				 "ping-pong %zu B, iteration %d: byte %zu from rank %d is 0x%02x, not 0x%02x",
				 size, iter, i, sender, buf[i],
				 pattern_byte(size, iter, sender, i));
			die(msg);
		}
	}
}

static void ping_pong(size_t size, int iters, uint8_t *out, uint8_t *in)
{
	int peer = 1 - rank, iter, count;
	MPI_Status st;
	double t0 = MPI_Wtime();

	for (iter = 0; iter < iters; iter++) {
		fill(out, size, iter, rank);
		memset(in, 0, size);
		if (rank == 0) {
			MPI_Send(out, (int)size, MPI_BYTE, peer, iter, MPI_COMM_WORLD);
			MPI_Recv(in, (int)size, MPI_BYTE, peer, iter, MPI_COMM_WORLD, &st);
		} else {
			MPI_Recv(in, (int)size, MPI_BYTE, peer, iter, MPI_COMM_WORLD, &st);
			MPI_Send(out, (int)size, MPI_BYTE, peer, iter, MPI_COMM_WORLD);
		}
		MPI_Get_count(&st, MPI_BYTE, &count);
		if ((size_t)count != size)
			die("ping-pong: a message arrived with the wrong length");
		check(in, size, iter, peer);
	}
	if (rank == 0)
		printf("ping-pong %8zu B x %d: checked, %.1f us per round trip\n",
		       size, iters, (MPI_Wtime() - t0) * 1e6 / iters);
}

/* Element i of rank r's vector; the sum over ranks is known. */
static int64_t contribution(int r, size_t i)
{
	return (int64_t)(r + 1) * (int64_t)(i + 1) - (int64_t)i * r;
}

static void allreduce(size_t n)
{
	int64_t *v = malloc(n * sizeof(*v)), *sum = malloc(n * sizeof(*sum));
	size_t i;
	int r;

	if (!v || !sum)
		die("out of memory");
	for (i = 0; i < n; i++)
		v[i] = contribution(rank, i);
	MPI_Allreduce(v, sum, (int)n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
	for (i = 0; i < n; i++) {
		int64_t want = 0;

		for (r = 0; r < nranks; r++)
			want += contribution(r, i);
		if (sum[i] != want)
			die("allreduce: a sum is wrong");
	}
	if (rank == 0)
		printf("allreduce of %zu int64: checked\n", n);
	free(v);
	free(sum);
}

static uint32_t block_word(int from, int to, size_t i)
{
	return ((uint32_t)from << 24) ^ ((uint32_t)to << 16) ^ (uint32_t)i;
}

static void alltoall(size_t words)
{
	size_t total = words * (size_t)nranks, i;
	uint32_t *out = malloc(total * 4), *in = malloc(total * 4);
	int r;

	if (!out || !in)
		die("out of memory");
	for (r = 0; r < nranks; r++)
		for (i = 0; i < words; i++)
			out[(size_t)r * words + i] = block_word(rank, r, i);
	MPI_Alltoall(out, (int)words, MPI_UINT32_T, in, (int)words,
		     MPI_UINT32_T, MPI_COMM_WORLD);
	for (r = 0; r < nranks; r++)
		for (i = 0; i < words; i++)
			if (in[(size_t)r * words + i] != block_word(r, rank, i))
				die("alltoall: a block is wrong");
	if (rank == 0)
		printf("alltoall of %zu B per rank pair: checked\n", words * 4);
	free(out);
	free(in);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 10;
	uint8_t *out, *in;
	size_t size;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	if (nranks != 2)
		die("run with two ranks");
	if (iters < 1)
		die("ITERATIONS must be at least 1");
	out = malloc(MAX_SIZE);
	in = malloc(MAX_SIZE);
	if (!out || !in)
		die("out of memory");

	for (size = 1; size <= MAX_SIZE; size *= 2) {
		ping_pong(size, iters, out, in);
		/* Off the power of two: unaligned tails, odd segment splits. */
		if (size >= 64 && size < MAX_SIZE)
			ping_pong(size + size / 2 + 3, iters, out, in);
	}
	allreduce(1);
	allreduce(100000);
	alltoall(1);
	alltoall(65536);

	MPI_Barrier(MPI_COMM_WORLD);
	if (rank == 0)
		printf("all checked\n");
	free(out);
	free(in);
	MPI_Finalize();
	return 0;
}
