// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A QEMU TCG plugin that counts the guest kernel's instructions, per
 * translated block, in windows the guest marks itself. Under emulation
 * time is mostly instructions, and counts do not move with the host's
 * load: two builds that differ by 3 % in a ping-pong's round trip differ
 * in their counts per round trip, which a timed run of the same length
 * cannot tell from noise (tools/bench --count).
 *
 *   qemu-system-x86_64 ... -plugin build/tcg-count.so,mark=ADDR,out=FILE
 *
 * ADDR is the guest kernel's address of a function only the marking
 * guest calls (tools/bench-guest: ksys_sync, entered by sync(1), with
 * the kernel booted nokaslr). Each time a block starting there runs, the
 * plugin writes "window N" and one line "VADDR INSNS ATOMICS EXECS" per
 * block run since the previous mark: where it starts, how many
 * instructions it has, how many of them are atomic (locked, xchg with
 * memory, mfence: under multi-threaded TCG each is a call into QEMU
 * that costs many times an ordinary instruction), how often it ran. Only blocks at kernel addresses count; user
 * space spins while it waits, and its counts say nothing about siw.
 *
 * The few plugin API declarations this needs are written out here (QEMU
 * 7.2, plugin API version 1): Debian ships QEMU without its plugin
 * header. Each vCPU counts in a slot of its own, from a callback, so
 * that the counts hold under multi-threaded TCG as well; tools/bench
 * runs the guest with one TCG thread, where a ping-pong's round trip
 * waits for the round-robin kick between the two vCPUs and the kernel
 * takes the same path every time (under multi-threaded TCG the counts
 * per round trip of one build moved by up to 2x between runs: which CPU
 * ran the peer's softirq, whether a delayed ACK fired).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
	void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
	void (*cb)(unsigned int vcpu, void *udata),
	enum qemu_plugin_cb_flags flags, void *udata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
	void (*cb)(qemu_plugin_id_t id, void *udata), void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* x86-64's kernel half of the address space. */
#define KERNEL_START	0xffff800000000000ULL

#define MAX_VCPUS	16

struct block {
	uint64_t vaddr;
	uint64_t execs[MAX_VCPUS];	/* each vCPU adds to its own */
	uint64_t reported;		/* their sum at the previous mark */
	uint32_t insns;
	uint32_t atomics;
};

/*
 * One entry per translation, never freed or moved: the translated code
 * passes its address to on_exec(). A block translated again (after a
 * flush) gets a second entry, and its lines are summed by the reader.
 */
static struct block **blocks;
static size_t nr_blocks, max_blocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t mark;
static FILE *out;
static unsigned int window;

static void report(void)
{
	size_t i;

	fprintf(out, "window %u\n", window++);
	for (i = 0; i < nr_blocks; i++) {
		struct block *b = blocks[i];
		uint64_t sum = 0, n;
		int v;

		for (v = 0; v < MAX_VCPUS; v++)
			sum += __atomic_load_n(&b->execs[v], __ATOMIC_RELAXED);
		n = sum - b->reported;
		if (!n)
			continue;
		fprintf(out, "%" PRIx64 " %" PRIu32 " %" PRIu32 " %" PRIu64 "\n",
			b->vaddr, b->insns, b->atomics, n);
		b->reported = sum;
	}
	fflush(out);
}

static void on_mark(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	pthread_mutex_lock(&lock);
	report();
	pthread_mutex_unlock(&lock);
}

/*
 * Whether an x86 instruction is atomic: a LOCK prefix among its
 * prefixes, XCHG with a memory operand (locked without one), or MFENCE.
 */
static bool insn_atomic(const uint8_t *p, size_t len)
{
	size_t i = 0;
	bool lock = false;

	for (; i < len; i++) {
		uint8_t c = p[i];

		if (c == 0xf0)
			lock = true;
		else if (!(c == 0xf2 || c == 0xf3 || c == 0x2e || c == 0x36 ||
			   c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 ||
			   c == 0x66 || c == 0x67 || (c & 0xf0) == 0x40))
			break;
	}
	if (lock)
		return true;
	if (i < len && (p[i] == 0x86 || p[i] == 0x87))
		return i + 1 < len && (p[i + 1] >> 6) != 3;
	return i + 2 < len && p[i] == 0x0f && p[i + 1] == 0xae &&
	       p[i + 2] == 0xf0;
}

static void on_exec(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	__atomic_store_n(&b->execs[vcpu % MAX_VCPUS],
			 b->execs[vcpu % MAX_VCPUS] + 1, __ATOMIC_RELAXED);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;
	uint32_t i;

	(void)id;
	if (vaddr < KERNEL_START)
		return;
	b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->vaddr = vaddr;
	b->insns = qemu_plugin_tb_n_insns(tb);
	for (i = 0; i < b->insns; i++) {
		const struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		b->atomics += insn_atomic(qemu_plugin_insn_data(insn),
					  qemu_plugin_insn_size(insn));
	}

	pthread_mutex_lock(&lock);
	if (nr_blocks == max_blocks) {
		max_blocks = max_blocks ? 2 * max_blocks : 65536;
		blocks = realloc(blocks, max_blocks * sizeof(*blocks));
		if (!blocks)
			abort();
	}
	blocks[nr_blocks++] = b;
	pthread_mutex_unlock(&lock);

	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, b);
	if (vaddr == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark,
						     QEMU_PLUGIN_CB_NO_REGS, NULL);
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	pthread_mutex_lock(&lock);
	report();
	fclose(out);
	out = NULL;
	pthread_mutex_unlock(&lock);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info,
			int argc, char **argv)
{
	const char *path = NULL;
	int i;

	(void)info;
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "mark=", 5))
			mark = strtoull(argv[i] + 5, NULL, 16);
		else if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
	}
	if (!mark || !path) {
		qemu_plugin_outs("tcg-count: needs mark=ADDR and out=FILE\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		qemu_plugin_outs("tcg-count: cannot open the out file\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
