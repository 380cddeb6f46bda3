// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Where and when a QP's transmitter runs: the work queue its tx_work goes
 * on and the CPU it is queued to. The one thing everybody may ask of the
 * transmitter, from any context and without knowing its state: "look at
 * this QP again" (siw_tx_schedule()). Below the QP and both engines, so
 * that each of them can ask without calling up into the transmitter.
 */
#include "siw.h"

static struct workqueue_struct *siw_tx_wq;

int siw_sched_init(void)
{
	/*
	 * Memory reclaim may depend on storage over RDMA (NVMe-oF, NFS).
	 * High priority because the transmitter is what a NIC would be:
	 * RDMA consumers busy-poll their CQs, and at normal priority each
	 * poller took as much CPU as the transmitter they wait for. With
	 * the sender and receiver polling on two CPUs, ib_send_bw 1 MiB
	 * swung between 200 and 330 MB/s by where the work item ran; at
	 * high priority it stays at the top (measured under TCG, 6.12).
	 * Per CPU, so that siw_tx_cpu() decides where it runs.
	 */
	siw_tx_wq = alloc_workqueue("siw_tx", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	return siw_tx_wq ? 0 : -ENOMEM;
}

void siw_sched_exit(void)
{
	destroy_workqueue(siw_tx_wq);
}

/*
 * The CPU for tx_work: where it runs already when it queues itself
 * again, else the QP's own CPU unless that is the caller's. Work is
 * handed over so that it runs beside the task that made it (a poster,
 * or the softirq of a loopback peer), not instead of it: woken on the
 * caller's CPU, as the scheduler would place it, the high-priority
 * worker preempted the poster: ib_write_bw 4 KiB with every transmit
 * handed over made 80-84 MB/s on an unbound workqueue and 133 MB/s
 * queued on the other CPU (6.12 under TCG). QPs spread over the other
 * CPUs by QP number.
 */
static int siw_tx_cpu(struct siw_qp *qp)
{
	int self = raw_smp_processor_id();
	int cpu = READ_ONCE(qp->tx_cpu);
	unsigned int n, pick;

	if (current_work() == &qp->tx_work)
		return self;
	if (cpu >= 0 && cpu != self && cpu_online(cpu))
		return cpu;
	n = num_online_cpus();
	if (n < 2)
		return self;
	pick = qp->base_qp.qp_num % (n - 1);
	for_each_online_cpu(cpu) {
		if (cpu != self && !pick--)
			break;
	}
	if (cpu >= nr_cpu_ids)
		return self;
	WRITE_ONCE(qp->tx_cpu, cpu);
	return cpu;
}

/*
 * The doorbell of this CPU's task that is transmitting from its own
 * system call, if any (siw_tx_lend_begin()). Its task is compared with
 * current before anything else of it is used: the lender may have been
 * preempted, and another task's softirq may run here meanwhile.
 */
static DEFINE_PER_CPU(struct siw_tx_lender *, siw_tx_lender);

/*
 * Work asked for by a softirq that runs in the lender's task: on one
 * host the softirq of each segment the doorbell sends runs on its way
 * out of the sending system call, and so does the peer QP's receiver,
 * which asks its transmitter to send the Read Response. Run from the
 * doorbell right after its own transmit, it saves the round trip the
 * hand-over to another CPU and its wake-up (ib_read_lat 8 B under TCG,
 * 6.12: see docs/benchmarks.md). Never from a hard interrupt, whose
 * softirq count may be that of the softirq it interrupted.
 */
static bool siw_tx_lend(struct siw_qp *qp)
{
	struct siw_tx_lender *lender;

	if (!in_serving_softirq() || in_hardirq())
		return false;
	lender = this_cpu_read(siw_tx_lender);
	if (!lender || lender->task != current ||
	    lender->taken == SIW_TX_LEND_MAX)
		return false;
	if (!kref_get_unless_zero(&qp->ref))
		return false;
	lender->qp[lender->taken++] = qp;
	return true;
}

/*
 * Until siw_tx_lend_end(), softirqs that run in this task on this CPU
 * leave the transmits they ask for to it. The task stays on this CPU
 * meanwhile, so that the pointer it leaves here is its own to clear.
 */
void siw_tx_lend_begin(struct siw_tx_lender *lender)
{
	lender->task = current;
	lender->taken = 0;
	migrate_disable();
	this_cpu_write(siw_tx_lender, lender);
}

/*
 * From here on the lender's list is the caller's alone: it runs the
 * transmits of lender->qp[0 .. taken) and drops their references.
 */
void siw_tx_lend_end(struct siw_tx_lender *lender)
{
	this_cpu_cmpxchg(siw_tx_lender, lender, NULL);
	migrate_enable();
}

/*
 * A CPU going offline meanwhile is harmless: the work item then runs on
 * another one (queue_work_on()).
 */
void siw_tx_schedule(struct siw_qp *qp)
{
	if (siw_tx_lend(qp))
		return;
	queue_work_on(siw_tx_cpu(qp), siw_tx_wq, &qp->tx_work);
}

