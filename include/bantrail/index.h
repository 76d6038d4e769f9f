/* The log's index: which entries name which record (attachments,
 * occurrences, marks: their "of"), each entry's projection (the members of
 * its header that the cases and list use: never a notice's text, an
 * attachment or a secret) and the cases (cases.h), fed from those
 * projections. Built from the decrypted headers the first time a question
 * needs it, or taken from its snapshot, and then brought up to date by
 * reading only the entries written since (by this process or another: the
 * host and the CLI append to the same log).
 *
 * The snapshot (bt_index_save) is the index sealed beside the log under a
 * key derived from the log's secret key (bt_vault_index_save): nothing of
 * it is in clear on disk; a save appends the entries the last one lacked
 * (bt_index_save). It says which entry it covers and that entry's
 * chain hash; one that does not open (another log's, cut, altered) or no
 * longer matches the log (recovered, replaced, shorter) is set aside and
 * the index built again from the log; one older than the log is brought up
 * to date. Beside it, the cases derived from every entry it covered when
 * a save found them made (bt_index_case_list). The index in memory holds
 * decrypted metadata: free it (which wipes it) when the log is locked. */
#ifndef BANTRAIL_INDEX_H
#define BANTRAIL_INDEX_H

#include <json-c/json.h>
#include <stdint.h>
#include "bantrail/cases.h"
#include "bantrail/error.h"
#include "bantrail/vault.h"

typedef struct bt_index bt_index;

/* NULL when out of memory. */
bt_index *bt_index_new(void);

/* Wipes and frees; accepts NULL. */
void bt_index_free(bt_index *ix);

/* Brings ix up to the log's last entry (or only max entries further, when
 * max > 0: a slice of the work): when empty, takes the snapshot first (once
 * per ix); then decrypts the entries after the last one it holds, or from
 * the first when that one is no longer what it was (its chain hash changed:
 * the log was recovered or replaced), and feeds the cases the projections
 * they lack. Needs the log readable: bt_vault_read_each's errors
 * (BT_ERR_LOCKED, when it also forgets everything); on another error ix
 * keeps what it had. *read (may be NULL) is the number of entries read and
 * projections fed. */
bt_err bt_index_update(bt_index *ix, bt_vault *v, int64_t max, int64_t *read);

/* The last entry ix holds (0 when none). */
int64_t bt_index_last(const bt_index *ix);

/* How many entries ix has read (decrypted) from the log since it was made:
 * none for what its snapshot gave it. */
int64_t bt_index_decrypted(const bt_index *ix);

/* The last entry whose projection ix holds, after checking (one row, no
 * key) that the log still has that entry with the chain hash ix read:
 * when not, ix forgets everything and this is 0. Reads nothing new. */
int64_t bt_index_known(bt_index *ix, bt_vault *v);

/* The last entry ix holds once started: its snapshot's part 0 taken when
 * it is empty (once per ix) and the chain hash at that entry checked (ix
 * forgets everything when the log no longer has it). 0 when it holds none
 * or the log is locked. Decrypts nothing. */
int64_t bt_index_start(bt_index *ix, bt_vault *v);

/* Brings ix's pairs and projections up to the log (not its cases), started
 * as bt_index_start says, by decrypting the entries after the last one it
 * holds, and tells fn (may be NULL) of each of those: its id and its
 * header, parsed (borrowed for the call), or NULL when it did not read (fn's
 * answer is not used). So that whoever must read the same headers (the
 * sealed-capture scan at unlock) decrypts them once. Errors as
 * bt_index_update. */
bt_err bt_index_read_new(bt_index *ix, bt_vault *v, int (*fn)(void *ctx, int64_t id, json_object *head), void *ctx);

/* Entry id's projection (JSON text, *len bytes, borrowed until the next
 * call on ix): BT_ERR_NOT_FOUND when ix does not hold it, BT_ERR_CORRUPT
 * when it did not read. */
bt_err bt_index_header(const bt_index *ix, int64_t id, const char **text, size_t *len);

/* Writes ix's snapshot when it holds entries its last one did not: the
 * entries after those appended to what is on disk, when that is still the
 * file this ix read or wrote, else the snapshot anew; only max of them when
 * max > 0 (a slice of the work: call again while bt_index_unsaved says
 * more), all when 0 (bt_vault_index_save's errors; BT_OK when there was
 * nothing new). */
bt_err bt_index_save(bt_index *ix, bt_vault *v, int64_t max);

/* How many entries ix holds beyond what its snapshot covers, as far as it
 * knows (all it holds when it was built again or never saved). */
int64_t bt_index_unsaved(const bt_index *ix);

/* Brings ix's pairs up to the log (not its cases: cheaper after a
 * snapshot), then calls fn for each entry whose header names record id in
 * "of", in id order, with that header (read now, borrowed); fn returns
 * nonzero to stop. An entry that no longer reads is passed over. */
bt_err bt_index_related(bt_index *ix, bt_vault *v, int64_t id,
                        int (*fn)(void *ctx, int64_t entry, json_object *head), void *ctx);

/* Updates ix, then derives the cases as of now (cases.h) into *out,
 * borrowed: valid until the next call on ix. *unreadable (may be NULL):
 * entries that did not read. */
bt_err bt_index_cases(bt_index *ix, bt_vault *v, int64_t now, const bt_cases **out, int64_t *unreadable);

/* The cases to list, as bt_index_cases, but when ix holds no cases yet
 * (nothing, or only its snapshot's part 0 and the entries after it: a
 * process that has only unlocked, such as the CLI with no session), taken
 * from the cases bt_index_save keeps beside the snapshot
 * when they are of the log's last entry with its chain hash: without the
 * snapshot's entries or any header. Those cases have no events
 * (bt_cases_unpack): for listing only (bt_case_to_json without events).
 * Borrowed until the next call on ix. */
bt_err bt_index_case_list(bt_index *ix, bt_vault *v, int64_t now, const bt_cases **out, int64_t *unreadable);

#endif
