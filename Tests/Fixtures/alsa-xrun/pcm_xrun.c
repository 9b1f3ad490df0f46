/* An ALSA capture PCM for Hark's tests that overruns for real: a 440-Hz tone produced at 48 kHz
 * by the wall clock into a ring of the negotiated buffer size; a reader that falls more than a
 * buffer behind gets -EPIPE from alsa-lib, exactly as from a sound card, and must recover with
 * snd_pcm_recover. Build: cc -shared -fPIC -o libasound_module_pcm_xrun.so pcm_xrun.c -lasound -lm
 * Use: pcm_type.xrun { lib "/path/libasound_module_pcm_xrun.so" }  pcm.xruncap { type xrun } */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

typedef struct {
    snd_pcm_ioplug_t io;
    int timer;
    double started; /* seconds, CLOCK_MONOTONIC; < 0 while stopped */
    double phase;
} xrun_pcm;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void arm(xrun_pcm *x, double period) {
    struct itimerspec spec = {0};
    spec.it_interval.tv_sec = (time_t)period;
    spec.it_interval.tv_nsec = (long)((period - (double)(time_t)period) * 1e9);
    spec.it_value = spec.it_interval;
    timerfd_settime(x->timer, 0, &spec, NULL);
}

static int xrun_start(snd_pcm_ioplug_t *io) {
    xrun_pcm *x = io->private_data;
    x->started = now_seconds();
    arm(x, (double)io->period_size / io->rate);
    return 0;
}

static int xrun_stop(snd_pcm_ioplug_t *io) {
    xrun_pcm *x = io->private_data;
    x->started = -1;
    arm(x, 0);
    return 0;
}

static int xrun_prepare(snd_pcm_ioplug_t *io) {
    xrun_pcm *x = io->private_data;
    x->started = -1;
    return 0;
}

/* Frames produced since start, as a position in the ring; -EPIPE once the reader is a buffer behind. */
static snd_pcm_sframes_t xrun_pointer(snd_pcm_ioplug_t *io) {
    xrun_pcm *x = io->private_data;
    if (x->started < 0) return 0;
    snd_pcm_uframes_t produced = (snd_pcm_uframes_t)((now_seconds() - x->started) * io->rate);
    if (produced > io->appl_ptr + io->buffer_size) return -EPIPE;
    return (snd_pcm_sframes_t)(produced % io->buffer_size);
}

static snd_pcm_sframes_t xrun_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                       snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
    xrun_pcm *x = io->private_data;
    int16_t *out = (int16_t *)((char *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8);
    for (snd_pcm_uframes_t i = 0; i < size; i++) {
        out[i] = (int16_t)(8000 * sin(x->phase));
        x->phase = fmod(x->phase + 2 * M_PI * 440 / io->rate, 2 * M_PI);
    }
    return (snd_pcm_sframes_t)size;
}

static int xrun_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds, unsigned short *revents) {
    xrun_pcm *x = io->private_data;
    uint64_t expirations;
    (void)nfds;
    while (read(x->timer, &expirations, sizeof expirations) > 0) {}
    *revents = (pfd[0].revents & POLLIN) ? POLLIN : 0;
    return 0;
}

static int xrun_close(snd_pcm_ioplug_t *io) {
    xrun_pcm *x = io->private_data;
    close(x->timer);
    free(x);
    return 0;
}

static const snd_pcm_ioplug_callback_t callbacks = {
    .start = xrun_start,
    .stop = xrun_stop,
    .prepare = xrun_prepare,
    .pointer = xrun_pointer,
    .transfer = xrun_transfer,
    .poll_revents = xrun_poll_revents,
    .close = xrun_close,
};

SND_PCM_PLUGIN_DEFINE_FUNC(xrun) {
    (void)root;
    (void)conf;
    if (stream != SND_PCM_STREAM_CAPTURE) return -EINVAL;
    xrun_pcm *x = calloc(1, sizeof *x);
    if (!x) return -ENOMEM;
    x->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    x->started = -1;
    x->io.version = SND_PCM_IOPLUG_VERSION;
    x->io.name = "Hark test capture that overruns";
    x->io.callback = &callbacks;
    x->io.private_data = x;
    x->io.poll_fd = x->timer;
    x->io.poll_events = POLLIN;
    int err = snd_pcm_ioplug_create(&x->io, name, stream, mode);
    if (err < 0) {
        close(x->timer);
        free(x);
        return err;
    }
    static const unsigned int access[] = {SND_PCM_ACCESS_RW_INTERLEAVED};
    static const unsigned int formats[] = {SND_PCM_FORMAT_S16_LE};
    snd_pcm_ioplug_set_param_list(&x->io, SND_PCM_IOPLUG_HW_ACCESS, 1, access);
    snd_pcm_ioplug_set_param_list(&x->io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats);
    snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 1);
    snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_RATE, 48000, 48000);
    snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 960, 96000);
    snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024);
    snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 1920, 4 * 96000);
    *pcmp = x->io.pcm;
    return 0;
}

SND_PCM_PLUGIN_SYMBOL(xrun);
