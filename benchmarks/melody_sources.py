"""Files of the melody benchmark: where each comes from, and how the realistic ones are made.

Three kinds of source, all installable here, all collected (or generated) at run time into a
cache folder, so that no third-party file is committed:

* ``mma:PATH``: an example MIDI file shipped with Debian's ``mma`` package
  (``/usr/share/doc/mma/examples/PATH``; MMA is GPL-2+, examples by Bob van der Poel).
* ``m21:WORK``: a score from music21's corpus (``music21.corpus.parse(WORK)``), written to
  MIDI by music21 (corpus files are public domain or as listed in music21's
  ``corpus/license.txt``; music21 is BSD). ``m21u:WORK`` is the same file with every track
  name removed, as many real MIDI files have them.
* ``gen:KIND:TUNE``: a realistic song file made here from a real tune of music21's corpus
  (a lead sheet or folk tune) with a generated band, karaoke words or a piano texture; the
  kinds are documented in :func:`generate`.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import mido

MMA_EXAMPLES = Path("/usr/share/doc/mma/examples")
R = 480


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "styletx" / "melody_bench"
    root.mkdir(parents=True, exist_ok=True)
    return root


def fetch(source: str) -> Path | None:
    """The MIDI file for a source id, converted or generated into the cache; None if unavailable."""
    kind, _, rest = source.partition(":")
    if kind == "mma":
        path = MMA_EXAMPLES / rest
        return path if path.exists() else None
    target = cache_dir() / (hashlib.sha1(source.encode()).hexdigest()[:16] + ".mid")
    if target.exists():
        return target
    try:
        if kind in ("m21", "m21u"):
            data = _from_music21(rest, strip_names=kind == "m21u")
        elif kind == "gen":
            data = generate(*rest.split(":", 1))
        else:
            raise ValueError(f"unknown source kind {kind!r}")
    except ImportError:
        return None
    target.write_bytes(data)
    return target


def _from_music21(work: str, strip_names: bool) -> bytes:
    from music21 import corpus

    score = corpus.parse(work)
    path = cache_dir() / "tmp_m21.mid"
    score.write("midi", fp=str(path))
    mid = mido.MidiFile(str(path))
    path.unlink()
    if strip_names:
        for track in mid.tracks:
            for i, msg in enumerate(track):
                if msg.type in ("track_name", "instrument_name"):
                    track[i] = mido.MetaMessage("text", text="", time=msg.time)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- generated files

# name, program of the melody track, by variant number: the spellings real files use.
MELODY_NAMES = [("Melody", 73), ("Aria", 71), ("Lead Vocal", 52), ("", 0), ("Track 4", 65),
                ("Clarinet", 71), ("Voice", 53), ("Solo", 56)]
TRIADS = {0: (0, 4, 7), 5: (5, 9, 0), 7: (7, 11, 2), 9: (9, 0, 4), 2: (2, 5, 9)}


def _tune(spec: str) -> tuple[list[tuple[int, int, int]], int, int, int]:
    """Notes ``(start, end, pitch)`` in ticks, the meter and the tonic of tune ``OPUS#N``."""
    from music21 import corpus

    work, _, number = spec.partition("#")
    parsed = corpus.parse(work)
    if hasattr(parsed, "scores"):
        scores = list(parsed.scores)
        score = scores[int(number or 0) % len(scores)]
    else:
        score = parsed
    flat = score.flatten().stripTies()
    ts = flat.getElementsByClass("TimeSignature")
    num, den = (ts[0].numerator, ts[0].denominator) if ts else (4, 4)
    key = score.analyze("key")
    tonic = key.tonic.pitchClass if key.mode == "major" else (key.tonic.pitchClass + 3) % 12
    notes = []
    for n in flat.notes:
        if n.isChord:
            continue
        start = round(float(n.offset) * R)
        end = start + max(1, round(float(n.quarterLength) * R)) - R // 16
        pitch = n.pitch.midi
        while pitch < 62:
            pitch += 12
        while pitch > 84:
            pitch -= 12
        notes.append((start, max(end, start + 1), pitch))
    return notes, num, den, tonic


def _chords(notes, bar: int, tonic: int) -> list[tuple[int, tuple[int, int, int]]]:
    """One triad (as pitch classes) per bar: the I, ii, IV, V or vi chord covering most melody."""
    end = max(e for _, e, _ in notes)
    out = []
    for start in range(0, end, bar):
        pcs = [(p - tonic) % 12 for s, e, p in notes if start <= s < start + bar]
        best = max(TRIADS, key=lambda r: (sum(pc in TRIADS[r] for pc in pcs), r == 0))
        out.append((start, tuple((tonic + pc) % 12 for pc in TRIADS[best])))
    return out


def _track(name: str | None, channel: int, program: int,
           notes: list[tuple[int, int, int, int]], extra=()) -> mido.MidiTrack:
    events = [(0, 0, mido.Message("program_change", channel=channel, program=program))]
    if name is not None:
        events.insert(0, (0, -1, mido.MetaMessage("track_name", name=name)))
    for s, e, p, v in notes:
        events.append((s, 2, mido.Message("note_on", channel=channel, note=p, velocity=v)))
        events.append((e, 1, mido.Message("note_off", channel=channel, note=p, velocity=0)))
    events += [(t, 0, m) for t, m in extra]
    events.sort(key=lambda e: (e[0], e[1]))
    track, prev = mido.MidiTrack(), 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - prev))
        prev = tick
    return track


def generate(kind: str, spec: str) -> bytes:
    """A realistic file around a real tune (``spec``: ``WORK#N[@variant]``).

    Kinds: ``band`` (an MMA-like song file: bass, walking bass or arpeggio, chords, drums and
    the tune in a track named after the variant), ``karaoke`` (a .kar: the tune, a "Words"
    track of text events on its syllables, bass, chords, drums), ``karaoke_nomelody`` (the same
    without the tune: the words and a band), ``band_nomelody`` (bass, chords, pad, drums),
    ``piano2`` (a two-staff piano score: a chordal right hand with the tune on top, a left
    hand of bass and broken chords), ``leadsheet`` (the tune and a "Chords" track).
    """
    tune_spec, _, variant_s = spec.partition("@")
    variant = int(variant_s or 0)
    notes, num, den, tonic = _tune(tune_spec)
    bar = R * 4 * num // den
    beat = R * 4 // den if den <= 4 else R * 3 // 2 if num % 3 == 0 else R // 2
    chords = _chords(notes, bar, tonic)
    end = max(e for _, e, _ in notes)
    melody = [(s, e, p, 90 + (i * 7) % 20) for i, (s, e, p) in enumerate(notes)]
    bass = [(s, s + bar // 2 - 10, 36 + c[0], 80) for s, c in chords] + [
        (s + bar // 2, s + bar - 10, 36 + c[2 if variant % 2 else 0], 76) for s, c in chords
        if num % 2 == 0 or num >= 6]
    walk = [(s + k * beat, s + (k + 1) * beat - 10, 36 + (c[0] + (0, 2, 4, 5, 7, 5)[k % 6]) % 12,
             78) for s, c in chords for k in range(max(1, bar // beat))]
    block = [(s + k * beat, s + (k + 1) * beat - 20, 60 + pc if pc >= 5 else 72 + pc, 60)
             for s, c in chords for k in range(max(1, bar // beat)) for pc in c]
    arpeggio = [(s + k * R // 2, s + (k + 1) * R // 2 - 5, 79 + (c[k % 3] - tonic) % 12, 55)
                for s, c in chords for k in range(bar * 2 // R)]
    pad = [(s, s + bar, 55 + pc if pc >= 5 else 67 + pc, 50) for s, c in chords for pc in c]
    drums = [(t, t + 30, (36, 42, 38, 42)[(t // (R // 2)) % 4], 90) for t in range(0, end, R // 2)]
    conductor = mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=num, denominator=den),
        mido.MetaMessage("set_tempo", tempo=500_000 + 20_000 * variant),
    ])
    name, program = MELODY_NAMES[variant % len(MELODY_NAMES)]
    tracks = [conductor]
    if kind == "band":
        tracks += [_track("Bass", 1, 33, sorted(bass)),
                   _track("Walk" if variant % 2 else "Arpeggio", 2, 32 if variant % 2 else 46,
                          sorted(walk if variant % 2 else arpeggio)),
                   _track(name, 3, program, melody),
                   _track("Chord", 4, 0 if variant % 3 else 24, sorted(block)),
                   _track("Drum", 9, 0, drums)]
    elif kind in ("karaoke", "karaoke_nomelody"):
        words = [(s, mido.MetaMessage("text", text=("/" if i % 8 == 0 else "") + f"la{i % 5}"))
                 for i, (s, _, _) in enumerate(notes)]
        words.insert(0, (0, mido.MetaMessage("text", text="@TGenerated karaoke")))
        tracks.append(_track("Words", 15, 0, [], words))
        if kind == "karaoke":
            tracks.append(_track(None if variant % 2 else "Melody", 3, program or 0, melody))
        tracks += [_track("Bass" if variant % 2 else "", 1, 33, sorted(bass)),
                   _track("Piano", 4, 0, sorted(block)),
                   _track("Guitar" if variant % 2 else "Arp", 5, 25, sorted(arpeggio)),
                   _track("Drums", 9, 0, drums)]
    elif kind == "band_nomelody":
        tracks += [_track("Bass", 1, 33 + variant % 3, sorted(bass)),
                   _track("Chord-Piano", 4, 0, sorted(block)),
                   _track("Pad" if variant % 2 else "Strings", 5, 89 if variant % 2 else 48,
                          sorted(pad)),
                   _track("Walk", 2, 32, sorted(walk)),
                   _track("Drum", 9, 0, drums)]
    elif kind == "piano2":
        under = []
        for s, e, p, v in melody:
            c = next((c for cs, c in reversed(chords) if cs <= s), chords[0][1])
            below = sorted({p - ((p - pc) % 12 or 12) for pc in c})[-2:]
            if (s // beat) % 2 == 0 and e - s >= beat // 2:
                under += [(s, e, q, v - 30) for q in below if q >= 55]
        left = [(s + k * beat, s + (k + 1) * beat - 10,
                 (36 + c[0]) if k % 2 == 0 else (48 + c[(k // 2) % 3]), 70)
                for s, c in chords for k in range(max(1, bar // beat))]
        names = [("Piano", "Piano"), ("Piano RH", "Piano LH"), (None, None)][variant % 3]
        tracks += [_track(names[0], 0, 0, sorted(melody + under)),
                   _track(names[1], 1, 0, sorted(left))]
    elif kind == "leadsheet":
        tracks += [_track(name or "Melody", 0, program, melody),
                   _track("Chords", 1, 0, sorted(block))]
    else:
        raise ValueError(f"unknown kind {kind!r}")
    mid = mido.MidiFile(type=1, ticks_per_beat=R)
    mid.tracks.extend(tracks)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()
