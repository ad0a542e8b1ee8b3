// styletx for MuseScore: restyle the accompaniment of the open score into a new score.
//
// Installed by `styletx install-musescore-plugin`, which fills in the @...@ values below.
// The open score is never changed: it is exported as MusicXML into a private temporary
// folder (made by Python's tempfile.mkdtemp, mode 0700), sent to the local service
// (`styletx serve`) with XMLHttpRequest, and the answer is opened as a new score titled
// "<title> (<style>)". When the service does not answer, the plugin runs `styletx render`
// through QProcess instead and says so. Every failure is shown as one line in a dialog.
//
// MuseScore 3.x: everything. MuseScore 4.0-4.3 register the same "MuseScore 3.0" module;
// writeScore/readScore were missing there for a long time (upstream issue 13593), so the
// export or the opening can fail there, and the plugin says so. MuseScore 4.4+ (Qt 6)
// skips plugins that use QtQuick.Controls 1 and QtQuick.Dialogs 1, as this one does:
// they are what Debian's MuseScore 3 ships (it has no QtQuick.Controls 2).
import QtQuick 2.9
import QtQuick.Controls 1.4
import QtQuick.Layouts 1.3
import QtQuick.Dialogs 1.2
import MuseScore 3.0
import FileIO 3.0

MuseScore {
    id: plugin
    menuPath: "Plugins.styletx: restyle the accompaniment"
    description: "Rewrite the accompaniment of this score in another style (styletx), "
                 + "keeping the melody note for note; the result opens as a new score."
    version: "@VERSION@"
    requiresScore: true
    pluginType: "dialog"
    width: 380
    height: 250

    property string serviceUrl: "@URL@"
    property string python: "@PYTHON@"
    property string defaultStyle: "@STYLE@"
    property string folder: ""

    QProcess { id: proc }
    FileIO { id: file }

    MessageDialog {
        id: failure
        title: "styletx"
        icon: StandardIcon.Warning
    }

    // A one-line message: the dialog in MuseScore, the console when run with `mscore3 -p`.
    function say(line, isError) {
        console.log("styletx: " + line)
        status.text = line
        if (isError && !headless()) {
            failure.text = line
            failure.open()
        }
    }

    function headless() {
        var args = Qt.application.arguments
        return args.indexOf("-p") >= 0 || args.indexOf("--plugin") >= 0
    }

    // Runs `python -c CODE ARGS...` and returns its standard output (errors included).
    function runPython(code, args) {
        var quoted = args.map(function (a) { return "\"" + a + "\"" }).join(" ")
        proc.start("\"" + python + "\" -c \"" + code + "\" " + quoted)
        if (!proc.waitForFinished(600000))
            return null
        return String(proc.readAllStandardOutput())
    }

    function privateFolder() {
        var out = runPython("import tempfile;print(tempfile.mkdtemp(prefix='styletx-musescore-'))", [])
        return out === null ? "" : out.trim()
    }

    function scoreTitle() {
        var t = curScore.title || curScore.metaTag("workTitle") || curScore.scoreName || "score"
        return t.replace(/[^\w ()+-]/g, "_").trim() || "score"
    }

    function selectedBars() {
        var sel = curScore.selection
        if (!sel || !sel.isRange || !sel.startSegment)
            return ""
        var start = sel.startSegment.tick
        var end = sel.endSegment ? sel.endSegment.tick : curScore.lastSegment.tick + 1
        var first = 0, last = 0, n = 0
        for (var m = curScore.firstMeasure; m; m = m.nextMeasure) {
            n += 1
            var t = m.firstSegment.tick
            if (t <= start) first = n
            if (t < end) last = n
        }
        return first > 0 ? first + "-" + last : ""
    }

    function options() {
        return {style: styleBox.editText || defaultStyle, seed: seedField.text.trim(),
                strength: strengthField.text.trim(), bars: barsField.text.trim()}
    }

    function restyle() {
        var o = options()
        folder = privateFolder()
        if (!folder)
            return say("could not make a private temporary folder with " + python, true)
        var source = folder + "/" + scoreTitle() + ".musicxml"
        if (!writeScore(curScore, source.replace(/\.musicxml$/, ""), "musicxml"))
            return say("MuseScore could not export the score as MusicXML (writeScore)", true)
        var target = folder + "/" + scoreTitle() + " (" + o.style + ").musicxml"
        if (headless()) {
            say("run from the command line: calling styletx render through QProcess", false)
            return render(source, target, o)
        }
        post(source, target, o)
    }

    function multipart(boundary, fields, name, xml) {
        var body = ""
        for (var k in fields) {
            if (fields[k] === "") continue
            body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k
                    + "\"\r\n\r\n" + fields[k] + "\r\n"
        }
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + name + "\"\r\nContent-Type: application/vnd.recordare.musicxml+xml\r\n\r\n"
                + xml + "\r\n--" + boundary + "--\r\n"
        return body
    }

    function post(source, target, o) {
        file.source = source
        var boundary = "styletx" + Date.now()
        var fields = {style: o.style, seed: o.seed, strength: o.strength, bars: o.bars, format: "musicxml"}
        var name = source.substring(source.lastIndexOf("/") + 1)
        var xhr = new XMLHttpRequest()
        xhr.onreadystatechange = function () {
            if (xhr.readyState !== XMLHttpRequest.DONE)
                return
            if (xhr.status === 200) {
                file.source = target
                if (!file.write(xhr.responseText))
                    return say("could not write " + target, true)
                return open(target, o.style, "the service at " + serviceUrl)
            }
            if (xhr.status === 0) {
                say("the service at " + serviceUrl + " is not running: calling styletx render instead", false)
                return render(source, target, o)
            }
            var line = xhr.responseText
            try { line = JSON.parse(xhr.responseText).error } catch (e) {}
            say(line || ("the service answered " + xhr.status), true)
        }
        xhr.open("POST", serviceUrl + "/v1/transfer")
        xhr.setRequestHeader("Content-Type", "multipart/form-data; boundary=" + boundary)
        status.text = "restyling through " + serviceUrl + " ..."
        xhr.send(multipart(boundary, fields, name, file.read()))
    }

    function render(source, target, o) {
        var args = ["render", source, "-o", target, "--style", o.style]
        if (o.seed) args.push("--seed", o.seed)
        if (o.strength) args.push("--strength", o.strength)
        if (o.bars) args.push("--bars", o.bars)
        var out = runPython("import sys;sys.stderr=sys.stdout;from styletx.cli import main;"
                            + "sys.exit(main(sys.argv[1:]))", args)
        file.source = target
        if (out !== null && file.exists())
            return open(target, o.style, "styletx render")
        var lines = (out || "styletx render did not finish").trim().split("\n")
        var errors = lines.filter(function (l) { return l.indexOf("error") >= 0 })
        say(errors.length ? errors[errors.length - 1] : lines[lines.length - 1], true)
    }

    // The result's title becomes "<title> (<style>)", in the file and in the score's metadata.
    function retitle(path, title) {
        file.source = path
        var xml = file.read()
        var titled = false
        xml = xml.replace(/<(work-title|movement-title)>[^<]*<\/(work-title|movement-title)>/g,
                          function (all, tag) { titled = true; return "<" + tag + ">" + title + "</" + tag + ">" })
        xml = xml.replace(/(<credit-type>title<\/credit-type>\s*<credit-words[^>]*>)[^<]*/g, "$1" + title)
        return file.write(xml) ? titled : null
    }

    function open(path, style, via) {
        var title = scoreTitle() + " (" + style + ")"
        var titled = retitle(path, title)
        if (titled === null)
            return say("could not write " + path, true)
        var score = readScore(path)
        if (!score)
            return say("MuseScore could not open the result " + path + " (readScore)", true)
        score.setMetaTag("workTitle", title)
        if (!titled)
            score.addText("title", title)
        say("opened " + path + " as a new score titled \"" + title + "\" (through " + via + ")", false)
        if (headless())  // for scripts: MuseScore's own picture of the new score's first page
            writeScore(score, path.replace(/\.musicxml$/, ""), "png")
        else
            Qt.quit()
    }

    onRun: {
        barsField.text = selectedBars()
        if (headless())
            restyle()
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        GridLayout {
            columns: 2
            Label { text: "Style" }
            ComboBox {
                id: styleBox
                editable: true
                Layout.fillWidth: true
                model: ["jazz", "bossa", "bach", "folk", "pop", "ragtime"]
                Component.onCompleted: editText = plugin.defaultStyle
            }
            Label { text: "Seed" }
            TextField { id: seedField; text: "1"; Layout.fillWidth: true }
            Label { text: "Strength (0-1)" }
            TextField { id: strengthField; text: "1.0"; Layout.fillWidth: true }
            Label { text: "Bars" }
            TextField { id: barsField; placeholderText: "all (or e.g. 5-12)"; Layout.fillWidth: true }
        }
        Label { id: status; text: "the open score stays as it is"; wrapMode: Text.Wrap; Layout.fillWidth: true }
        RowLayout {
            Layout.alignment: Qt.AlignRight
            Button { text: "Cancel"; onClicked: Qt.quit() }
            Button { text: "Restyle"; isDefault: true; onClicked: restyle() }
        }
    }
}
