/* Passphrases and the Argon2id parameters that stretch them: what the
 * person's log (vault.h) and the union's key file (collect.h) share, written
 * once so that the collector needs nothing of the vault. */
#ifndef BANTRAIL_KDF_H
#define BANTRAIL_KDF_H

#include <stddef.h>

#define BT_PASSPHRASE_MIN 8        /* bytes */
#define BT_PASSPHRASE_MAX 1024     /* bytes */

typedef struct {
    unsigned long long opslimit;
    size_t memlimit;
} bt_kdf_params;

/* The default Argon2id parameters for new passphrases (libsodium's
 * "moderate": 3 passes, 256 MiB). */
bt_kdf_params bt_kdf_default(void);

#endif
