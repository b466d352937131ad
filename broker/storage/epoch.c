/* epoch.c: the leader-epoch cache (epoch -> start offset) and its file. */
#include "storage_int.h"

#include "alloc.h"
#include "checkpoint.h"
#include "partition_log.h"

#include <string.h>

static void save_epochs(struct rf_log *log)
{
    char errmsg[RF_ERRMSG_SIZE];
    char *path = rf_asprintf("%s/%s", log->dir, RF__EPOCH_FILE);

    if (rf_checkpoint_write(path, 2, log->epochs, log->nepochs, errmsg) != 0) {
        /* The cache is rebuilt from batches by replication if lost. */
        RF_WARN("leader epoch checkpoint failed tp=%s err=\"%s\"", log->name,
                errmsg);
    }
    rf_free(path);
}

void rf__log_note_epoch(struct rf_log *log, int32_t epoch, int64_t offset)
{
    if (epoch < 0 ||
        (log->nepochs > 0 && epoch <= log->epochs[(log->nepochs - 1) * 2])) {
        return;
    }
    if (log->nepochs == RF__MAX_EPOCHS) { /* keep the newest */
        memmove(log->epochs, log->epochs + 2,
                (RF__MAX_EPOCHS - 1) * 2 * sizeof(int64_t));
        log->nepochs--;
    }
    log->epochs = rf_realloc(log->epochs,
                             (log->nepochs + 1) * 2 * sizeof(int64_t));
    log->epochs[log->nepochs * 2] = epoch;
    log->epochs[log->nepochs * 2 + 1] = offset;
    log->nepochs++;
    save_epochs(log);
}

void rf__log_trim_epochs(struct rf_log *log, int64_t end)
{
    size_t n = log->nepochs;

    while (n > 0 && log->epochs[(n - 1) * 2 + 1] >= end) {
        n--;
    }
    if (n != log->nepochs) {
        log->nepochs = n;
        save_epochs(log);
    }
}

int32_t rf_log_latest_epoch(const struct rf_log *log)
{
    return log->nepochs ? (int32_t)log->epochs[(log->nepochs - 1) * 2] : -1;
}

int rf_log_epoch_end_offset(const struct rf_log *log, int32_t epoch,
                            int32_t *found_epoch, int64_t *end_offset)
{
    size_t i = log->nepochs;

    while (i > 0 && log->epochs[(i - 1) * 2] > epoch) {
        i--;
    }
    if (i == 0) {
        return RF_ENOENT;
    }
    *found_epoch = (int32_t)log->epochs[(i - 1) * 2];
    *end_offset = i < log->nepochs ? log->epochs[i * 2 + 1] : log->leo;
    return 0;
}
