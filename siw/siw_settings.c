// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Interop settings of one device: the MPA revision, CRC, RFC 6581
 * peer-to-peer mode and its RTR types, the IRD/ORD a connection may
 * announce, and zero-copy transmit. Peers differ (a hardware RNIC wants
 * CRC, a Windows host through a Chelsio card MPA revision 1), and one
 * host may talk to several kinds through different interfaces, so each
 * device has its own, read and written as attributes in its sysfs
 * directory (/sys/class/infiniband/DEV/). The module parameters of the
 * same names are the defaults a new device starts with.
 *
 * The connection manager takes a snapshot when a connection starts
 * (siw_settings_get()): a change applies to the device's connections
 * from then on, never to one that is being set up or running.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <rdma/ib_verbs.h>

#include "siw.h"

static bool siw_param_crc_enabled;
module_param_named(mpa_crc_enabled, siw_param_crc_enabled, bool, 0644);
MODULE_PARM_DESC(mpa_crc_enabled,
		 "Default of new devices' mpa_crc: request, generate and check MPA CRC32C (default: no)");

static bool siw_param_crc_strict;
module_param_named(mpa_crc_strict, siw_param_crc_strict, bool, 0644);
MODULE_PARM_DESC(mpa_crc_strict,
		 "With mpa_crc_enabled, new devices refuse peers that do not use CRC (mpa_crc strict; default: no)");

static unsigned int siw_param_mpa_rev = SIW_MPA_REV_2;
static bool siw_param_peer_to_peer;
static unsigned int siw_param_rtr = SIW_MPA_RTR_ALL;
static unsigned int siw_param_max_ird = SIW_MAX_IRD;
static unsigned int siw_param_max_ord = SIW_MAX_ORD;
static unsigned int siw_param_zcopy_tx = SIW_ZCOPY_OFF;

/* ---- values and their names ------------------------------------------ */

static const char *const siw_crc_names[] = {
	[SIW_CRC_OFF] = "off",
	[SIW_CRC_ON] = "on",
	[SIW_CRC_STRICT] = "strict",
};

static const struct {
	const char *name;
	u8 rtr;
} siw_rtr_names[] = {
	{ "write", SIW_MPA_RTR_WRITE },
	{ "read", SIW_MPA_RTR_READ },
	{ "send", SIW_MPA_RTR_SEND },
};

/* A value as written to sysfs: one line, its newline not part of it. */
static size_t siw_value_len(const char *val)
{
	return strcspn(val, "\n");
}

static int siw_parse_uint(const char *val, unsigned int max,
			  unsigned int *out)
{
	char buf[16];
	size_t len = siw_value_len(val);

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (kstrtouint(buf, 10, out) || *out > max)
		return -EINVAL;
	return 0;
}

static int siw_parse_mpa_rev(const char *val, unsigned int *rev)
{
	if (siw_parse_uint(val, SIW_MPA_REV_2, rev) || *rev < SIW_MPA_REV_1)
		return -EINVAL;
	return 0;
}

/* "all", or a comma-separated list of write, read and send. */
static int siw_parse_rtr(const char *val, unsigned int *rtr)
{
	size_t len = siw_value_len(val);
	const char *end = val + len;
	unsigned int i;

	if (len == 3 && !strncmp(val, "all", 3)) {
		*rtr = SIW_MPA_RTR_ALL;
		return 0;
	}
	*rtr = 0;
	for (;;) {
		const char *comma = memchr(val, ',', end - val);
		size_t n = (comma ? comma : end) - val;

		for (i = 0; i < ARRAY_SIZE(siw_rtr_names); i++) {
			if (n == strlen(siw_rtr_names[i].name) &&
			    !strncmp(val, siw_rtr_names[i].name, n))
				break;
		}
		if (i == ARRAY_SIZE(siw_rtr_names))
			return -EINVAL;
		*rtr |= siw_rtr_names[i].rtr;
		if (!comma)
			return 0;
		val = comma + 1;
	}
}

static int siw_emit_rtr(char *buf, unsigned int rtr)
{
	int len = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(siw_rtr_names); i++) {
		if (rtr & siw_rtr_names[i].rtr)
			len += sysfs_emit_at(buf, len, "%s%s", len ? "," : "",
					     siw_rtr_names[i].name);
	}
	return len + sysfs_emit_at(buf, len, "\n");
}

static int siw_parse_zcopy(const char *val, unsigned int *mode)
{
	char buf[8];
	size_t len = siw_value_len(val);
	bool on;

	if (!siw_parse_uint(val, SIW_ZCOPY_ALWAYS, mode))
		return 0;
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	/* y/n/on/off: the parameter used to be a bool. */
	if (kstrtobool(buf, &on))
		return -EINVAL;
	*mode = on ? SIW_ZCOPY_ON : SIW_ZCOPY_OFF;
	return 0;
}

/* ---- module parameters: the defaults of new devices ------------------- */

static int siw_param_set_mpa_rev(const char *val, const struct kernel_param *kp)
{
	unsigned int rev;

	if (siw_parse_mpa_rev(val, &rev)) {
		pr_err("siw: mpa_rev: '%.*s' is not 1 or 2\n",
		       (int)siw_value_len(val), val);
		return -EINVAL;
	}
	WRITE_ONCE(siw_param_mpa_rev, rev);
	return 0;
}

static const struct kernel_param_ops siw_mpa_rev_ops = {
	.set = siw_param_set_mpa_rev,
	.get = param_get_uint,
};
module_param_cb(mpa_rev, &siw_mpa_rev_ops, &siw_param_mpa_rev, 0644);
MODULE_PARM_DESC(mpa_rev,
		 "Default of new devices' mpa_rev: the MPA revision to initiate with and the highest to answer with, 1 or 2 (default: 2)");

module_param_named(peer_to_peer, siw_param_peer_to_peer, bool, 0644);
MODULE_PARM_DESC(peer_to_peer,
		 "Default of new devices' peer_to_peer: as initiator, ask for RFC 6581 peer-to-peer mode with a ready-to-receive message; needs mpa_rev 2 (default: no)");

static int siw_param_set_rtr(const char *val, const struct kernel_param *kp)
{
	unsigned int rtr;

	if (siw_parse_rtr(val, &rtr)) {
		pr_err("siw: mpa_rtr: '%.*s' is not all or a comma-separated list of write, read and send\n",
		       (int)siw_value_len(val), val);
		return -EINVAL;
	}
	WRITE_ONCE(siw_param_rtr, rtr);
	return 0;
}

static int siw_param_get_rtr(char *buffer, const struct kernel_param *kp)
{
	return siw_emit_rtr(buffer, READ_ONCE(siw_param_rtr));
}

static const struct kernel_param_ops siw_rtr_ops = {
	.set = siw_param_set_rtr,
	.get = siw_param_get_rtr,
};
module_param_cb(mpa_rtr, &siw_rtr_ops, NULL, 0644);
MODULE_PARM_DESC(mpa_rtr,
		 "Default of new devices' mpa_rtr: the RFC 6581 ready-to-receive messages offered as initiator and accepted as responder, all or a list of write, read, send (default: all)");

static int siw_param_set_limit(const char *val, const struct kernel_param *kp)
{
	unsigned int *limit = kp->arg;
	unsigned int max = limit == &siw_param_max_ird ? SIW_MAX_IRD :
						       SIW_MAX_ORD;
	unsigned int n;

	if (siw_parse_uint(val, max, &n)) {
		pr_err("siw: %s: '%.*s' is not a number from 0 to %u\n",
		       kp->name, (int)siw_value_len(val), val, max);
		return -EINVAL;
	}
	WRITE_ONCE(*limit, n);
	return 0;
}

static const struct kernel_param_ops siw_limit_ops = {
	.set = siw_param_set_limit,
	.get = param_get_uint,
};
module_param_cb(max_ird, &siw_limit_ops, &siw_param_max_ird, 0644);
MODULE_PARM_DESC(max_ird,
		 "Default of new devices' max_ird: the most inbound Read Requests a connection announces it takes, 0 to 128 (default: 128)");
module_param_cb(max_ord, &siw_limit_ops, &siw_param_max_ord, 0644);
MODULE_PARM_DESC(max_ord,
		 "Default of new devices' max_ord: the most outbound Read Requests a connection announces, 0 to 128 (default: 128)");

static int siw_param_set_zcopy(const char *val, const struct kernel_param *kp)
{
	unsigned int mode;

	if (siw_parse_zcopy(val, &mode)) {
		pr_err("siw: zcopy_tx: '%.*s' is not 0 (off), 1 (on) or 2 (always)\n",
		       (int)siw_value_len(val), val);
		return -EINVAL;
	}
	WRITE_ONCE(siw_param_zcopy_tx, mode);
	return 0;
}

static const struct kernel_param_ops siw_zcopy_tx_ops = {
	.set = siw_param_set_zcopy,
	.get = param_get_uint,
};
module_param_cb(zcopy_tx, &siw_zcopy_tx_ops, &siw_param_zcopy_tx, 0644);
MODULE_PARM_DESC(zcopy_tx,
		 "Default of new devices' zcopy_tx: transmit payload without copying it: 0 no, 1 yes unless the kernel copies it anyway on a connection, 2 always (default: 0)");

void siw_settings_init(struct siw_device *sdev)
{
	struct siw_settings *s = &sdev->settings;

	spin_lock_init(&sdev->settings_lock);
	s->mpa_rev = READ_ONCE(siw_param_mpa_rev);
	s->crc = !READ_ONCE(siw_param_crc_enabled) ? SIW_CRC_OFF :
		 READ_ONCE(siw_param_crc_strict) ? SIW_CRC_STRICT : SIW_CRC_ON;
	s->p2p = READ_ONCE(siw_param_peer_to_peer);
	s->rtr = READ_ONCE(siw_param_rtr);
	s->max_ird = READ_ONCE(siw_param_max_ird);
	s->max_ord = READ_ONCE(siw_param_max_ord);
	s->zcopy_tx = READ_ONCE(siw_param_zcopy_tx);
	if (s->p2p && s->mpa_rev < SIW_MPA_REV_2) {
		/* The parameters are set one by one: only now are both known. */
		pr_warn_once("siw: peer_to_peer needs mpa_rev 2; new devices start with it off\n");
		s->p2p = false;
	}
}

void siw_settings_get(struct siw_device *sdev, struct siw_settings *out)
{
	spin_lock(&sdev->settings_lock);
	*out = sdev->settings;
	spin_unlock(&sdev->settings_lock);
}

/* ---- the device's attributes ------------------------------------------ */

static struct siw_device *siw_attr_dev(struct device *device)
{
	return rdma_device_to_drv_device(device, struct siw_device, base_dev);
}

/*
 * Applies @change to the device's settings if the result is consistent;
 * returns why not otherwise, for the caller's log line.
 */
static const char *siw_settings_update(struct siw_device *sdev,
				       void (*change)(struct siw_settings *s,
						      unsigned int v),
				       unsigned int v)
{
	struct siw_settings s;
	const char *why = NULL;

	spin_lock(&sdev->settings_lock);
	s = sdev->settings;
	change(&s, v);
	if (s.p2p && s.mpa_rev < SIW_MPA_REV_2)
		why = "peer_to_peer needs mpa_rev 2 (RFC 6581)";
	else
		sdev->settings = s;
	spin_unlock(&sdev->settings_lock);
	return why;
}

static ssize_t siw_attr_store(struct device *device, const char *buf,
			      size_t count, const char *name, int parsed,
			      void (*change)(struct siw_settings *s,
					     unsigned int v),
			      unsigned int v, const char *expected)
{
	struct siw_device *sdev = siw_attr_dev(device);
	const char *why;

	if (parsed) {
		ibdev_warn_ratelimited(&sdev->base_dev,
				       "%s: '%.*s' is not %s\n", name,
				       (int)siw_value_len(buf), buf, expected);
		return -EINVAL;
	}
	why = siw_settings_update(sdev, change, v);
	if (why) {
		ibdev_warn_ratelimited(&sdev->base_dev, "%s: %s\n", name, why);
		return -EINVAL;
	}
	return count;
}

static struct siw_settings siw_attr_settings(struct device *device)
{
	struct siw_settings s;

	siw_settings_get(siw_attr_dev(device), &s);
	return s;
}

static void siw_set_mpa_rev(struct siw_settings *s, unsigned int v)
{
	s->mpa_rev = v;
}

static ssize_t mpa_rev_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", siw_attr_settings(device).mpa_rev);
}

static ssize_t mpa_rev_store(struct device *device,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_mpa_rev(buf, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_mpa_rev, v, "1 or 2");
}
static DEVICE_ATTR_RW(mpa_rev);

static void siw_set_crc(struct siw_settings *s, unsigned int v)
{
	s->crc = v;
}

static ssize_t mpa_crc_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  siw_crc_names[siw_attr_settings(device).crc]);
}

static ssize_t mpa_crc_store(struct device *device,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	size_t len = siw_value_len(buf);
	unsigned int v;

	for (v = 0; v < ARRAY_SIZE(siw_crc_names); v++) {
		if (len == strlen(siw_crc_names[v]) &&
		    !strncmp(buf, siw_crc_names[v], len))
			break;
	}
	return siw_attr_store(device, buf, count, attr->attr.name,
			      v == ARRAY_SIZE(siw_crc_names) ? -EINVAL : 0,
			      siw_set_crc, v, "off, on or strict");
}
static DEVICE_ATTR_RW(mpa_crc);

static void siw_set_p2p(struct siw_settings *s, unsigned int v)
{
	s->p2p = v;
}

static ssize_t peer_to_peer_show(struct device *device,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", siw_attr_settings(device).p2p);
}

static ssize_t peer_to_peer_store(struct device *device,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_uint(buf, 1, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_p2p, v, "0 or 1");
}
static DEVICE_ATTR_RW(peer_to_peer);

static void siw_set_rtr(struct siw_settings *s, unsigned int v)
{
	s->rtr = v;
}

static ssize_t mpa_rtr_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return siw_emit_rtr(buf, siw_attr_settings(device).rtr);
}

static ssize_t mpa_rtr_store(struct device *device,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_rtr(buf, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_rtr, v,
			      "all or a comma-separated list of write, read and send");
}
static DEVICE_ATTR_RW(mpa_rtr);

static void siw_set_max_ird(struct siw_settings *s, unsigned int v)
{
	s->max_ird = v;
}

static ssize_t max_ird_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", siw_attr_settings(device).max_ird);
}

static ssize_t max_ird_store(struct device *device,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_uint(buf, SIW_MAX_IRD, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_max_ird, v,
			      "a number from 0 to " __stringify(SIW_MAX_IRD));
}
static DEVICE_ATTR_RW(max_ird);

static void siw_set_max_ord(struct siw_settings *s, unsigned int v)
{
	s->max_ord = v;
}

static ssize_t max_ord_show(struct device *device,
			    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", siw_attr_settings(device).max_ord);
}

static ssize_t max_ord_store(struct device *device,
			     struct device_attribute *attr, const char *buf,
			     size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_uint(buf, SIW_MAX_ORD, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_max_ord, v,
			      "a number from 0 to " __stringify(SIW_MAX_ORD));
}
static DEVICE_ATTR_RW(max_ord);

static void siw_set_zcopy(struct siw_settings *s, unsigned int v)
{
	s->zcopy_tx = v;
}

static ssize_t zcopy_tx_show(struct device *device,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", siw_attr_settings(device).zcopy_tx);
}

static ssize_t zcopy_tx_store(struct device *device,
			      struct device_attribute *attr, const char *buf,
			      size_t count)
{
	unsigned int v = 0;
	int rv = siw_parse_zcopy(buf, &v);

	return siw_attr_store(device, buf, count, attr->attr.name, rv,
			      siw_set_zcopy, v, "0 (off), 1 (on) or 2 (always)");
}
static DEVICE_ATTR_RW(zcopy_tx);

static struct attribute *siw_settings_attrs[] = {
	&dev_attr_mpa_rev.attr,
	&dev_attr_mpa_crc.attr,
	&dev_attr_peer_to_peer.attr,
	&dev_attr_mpa_rtr.attr,
	&dev_attr_max_ird.attr,
	&dev_attr_max_ord.attr,
	&dev_attr_zcopy_tx.attr,
	NULL
};

const struct attribute_group siw_settings_group = {
	.attrs = siw_settings_attrs,
};
