// The TensorBoard settings of the model tab: every field through setConfig()/config() and
// through the model panel, the sub-options locked while logging is off, the command that
// watches the logs (its path given back exactly by a POSIX shell) and Copy. Offscreen platform.

#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QGroupBox>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>

#include "app/model_panel.h"
#include "app/tensorboard_form.h"

using namespace wb::ui;

Q_DECLARE_METATYPE(wb::TensorBoardConfig)

namespace {

wb::TensorBoardConfig makeConfig(bool enabled, const char* logDir, bool histograms, bool images,
                                 bool prCurves, bool embeddings, int embeddingImages, bool text,
                                 bool hparams) {
    wb::TensorBoardConfig c;
    c.enabled = enabled;
    c.log_dir = logDir;
    c.histograms = histograms;
    c.images = images;
    c.pr_curves = prCurves;
    c.embeddings = embeddings;
    c.embedding_images = embeddingImages;
    c.text = text;
    c.hparams = hparams;
    return c;
}

void compareConfigs(const wb::TensorBoardConfig& actual, const wb::TensorBoardConfig& expected) {
    QCOMPARE(actual.enabled, expected.enabled);
    QCOMPARE(actual.log_dir, expected.log_dir);
    QCOMPARE(actual.histograms, expected.histograms);
    QCOMPARE(actual.images, expected.images);
    QCOMPARE(actual.pr_curves, expected.pr_curves);
    QCOMPARE(actual.embeddings, expected.embeddings);
    QCOMPARE(actual.embedding_images, expected.embedding_images);
    QCOMPARE(actual.text, expected.text);
    QCOMPARE(actual.hparams, expected.hparams);
}

/// The words /bin/sh makes of `command`, one per element (its arguments after `set --`).
QStringList shellWords(const QString& command) {
    QProcess sh;
    sh.start(
        QStringLiteral("/bin/sh"),
        {QStringLiteral("-c"), QStringLiteral("set -- %1; printf '%s\\0' \"$@\"").arg(command)});
    if (!sh.waitForFinished(10000) || sh.exitCode() != 0) {
        return {QStringLiteral("<sh failed: %1>")
                    .arg(QString::fromLocal8Bit(sh.readAllStandardError()))};
    }
    QStringList words = QString::fromUtf8(sh.readAllStandardOutput()).split(QChar(0));
    words.removeLast();  // after the last NUL
    return words;
}

/// The settings that follow "Write TensorBoard logs".
QList<QWidget*> subOptions(const TensorBoardForm& form) {
    return {form.logDirEdit(),  form.browseButton(),  form.histogramsCheck(),
            form.imagesCheck(), form.prCurvesCheck(), form.embeddingsCheck(),
            form.textCheck(),   form.hparamsCheck()};
}

}  // namespace

class TestTensorBoardForm : public QObject {
    Q_OBJECT
private slots:
    void roundTrip_data();
    void roundTrip();
    void defaultsMatchTheEngine();
    void userEditsReachConfig();
    void setConfigDoesNotEmitEdited();
    void subOptionsDisabledWhenOff();
    void modelPanelRoundTrip_data();
    void modelPanelRoundTrip();
    void modelPanelEditsEmitExperimentEdited();
    void modelPanelLockKeepsCommandCopyable();
    void commandWatchesRunsFolder();
    void commandWatchesSharedLogFolder();
    void commandFollowsTypedLogFolder();
    void shellGivesBackThePath_data();
    void shellGivesBackThePath();
    void copyPutsCommandOnClipboard();
    void remoteHintShown();
};

void TestTensorBoardForm::roundTrip_data() {
    QTest::addColumn<wb::TensorBoardConfig>("config");
    QTest::newRow("defaults") << wb::TensorBoardConfig{};
    QTest::newRow("all off") << makeConfig(false, "", false, false, false, false, 1, false, false);
    QTest::newRow("shared folder, some on")
        << makeConfig(true, "/srv/tb logs", true, false, true, false, 2000, true, false);
    QTest::newRow("off, others on")
        << makeConfig(false, "/tmp/x", true, true, true, true, 37, true, true);
    QTest::newRow("each flag alone 1")
        << makeConfig(true, "", false, true, false, false, 500, false, false);
    QTest::newRow("each flag alone 2")
        << makeConfig(true, "", false, false, false, true, 12345, false, false);
    QTest::newRow("each flag alone 3")
        << makeConfig(true, "", false, false, false, false, 500, true, false);
    QTest::newRow("each flag alone 4")
        << makeConfig(true, "", false, false, false, false, 500, false, true);
}

void TestTensorBoardForm::roundTrip() {
    QFETCH(wb::TensorBoardConfig, config);
    TensorBoardForm form;
    form.setConfig(config);
    compareConfigs(form.config(), config);
    // A second form in between: nothing is left over from the first value.
    form.setConfig(makeConfig(!config.enabled, "/other", !config.histograms, !config.images,
                              !config.pr_curves, !config.embeddings, 3, !config.text,
                              !config.hparams));
    form.setConfig(config);
    compareConfigs(form.config(), config);
}

void TestTensorBoardForm::defaultsMatchTheEngine() {
    TensorBoardForm form;
    compareConfigs(form.config(), wb::TensorBoardConfig{});
    QCOMPARE(form.logDirEdit()->placeholderText(), QStringLiteral("inside each run folder"));
    QCOMPARE(form.enabledCheck()->text(), QStringLiteral("Write TensorBoard logs"));
}

void TestTensorBoardForm::userEditsReachConfig() {
    TensorBoardForm form;
    QSignalSpy edited(&form, &TensorBoardForm::edited);
    form.histogramsCheck()->click();
    form.prCurvesCheck()->click();
    form.embeddingImagesSpin()->setValue(64);
    form.logDirEdit()->setFocus();
    QTest::keyClicks(form.logDirEdit(), QStringLiteral("/srv/tb"));
    const wb::TensorBoardConfig c = form.config();
    QCOMPARE(c.histograms, false);
    QCOMPARE(c.pr_curves, false);
    QCOMPARE(c.embedding_images, 64);
    QCOMPARE(c.log_dir, std::string("/srv/tb"));
    QCOMPARE(c.images, true);
    QVERIFY(edited.count() >= 4);
}

void TestTensorBoardForm::setConfigDoesNotEmitEdited() {
    TensorBoardForm form;
    QSignalSpy edited(&form, &TensorBoardForm::edited);
    form.setConfig(makeConfig(false, "/x", false, false, false, false, 9, false, false));
    form.setRunsDir(QStringLiteral("/runs"));
    QCOMPARE(edited.count(), 0);
}

void TestTensorBoardForm::subOptionsDisabledWhenOff() {
    TensorBoardForm form;
    form.setConfig(wb::TensorBoardConfig{});
    for (QWidget* w : subOptions(form)) {
        QVERIFY2(w->isEnabled(), qPrintable(w->metaObject()->className()));
    }
    QVERIFY(form.embeddingImagesSpin()->isEnabled());

    form.enabledCheck()->click();
    QVERIFY(!form.config().enabled);
    for (QWidget* w : subOptions(form)) {
        QVERIFY2(!w->isEnabled(), qPrintable(w->metaObject()->className()));
    }
    QVERIFY(!form.embeddingImagesSpin()->isEnabled());
    // Watching older runs still makes sense.
    QVERIFY(form.commandEdit()->isEnabled());
    QVERIFY(form.copyButton()->isEnabled());

    // A config that arrives turned off locks them too.
    form.setConfig(wb::TensorBoardConfig{});
    wb::TensorBoardConfig off;
    off.enabled = false;
    form.setConfig(off);
    QVERIFY(!form.histogramsCheck()->isEnabled());

    // The image count follows the embeddings box.
    form.setConfig(wb::TensorBoardConfig{});
    form.embeddingsCheck()->click();
    QVERIFY(!form.embeddingImagesSpin()->isEnabled());
    QVERIFY(form.histogramsCheck()->isEnabled());
}

void TestTensorBoardForm::modelPanelRoundTrip_data() {
    roundTrip_data();
}

void TestTensorBoardForm::modelPanelRoundTrip() {
    QFETCH(wb::TensorBoardConfig, config);
    ModelPanel panel;
    wb::Experiment e;
    e.name = "tb";
    e.epochs = 7;
    e.tensorboard = config;
    panel.setExperiment(e);
    QVERIFY(panel.experiment() == e);
    compareConfigs(panel.experiment().tensorboard, config);
    compareConfigs(panel.tensorBoardForm()->config(), config);
    QCOMPARE(panel.tensorBoardForm()->enabledCheck()->isChecked(), config.enabled);
}

void TestTensorBoardForm::modelPanelEditsEmitExperimentEdited() {
    ModelPanel panel;
    QSignalSpy edited(&panel, &ModelPanel::experimentEdited);
    panel.tensorBoardForm()->imagesCheck()->click();
    QCOMPARE(edited.count(), 1);
    QCOMPARE(panel.experiment().tensorboard.images, false);
    panel.tensorBoardForm()->embeddingImagesSpin()->setValue(77);
    QCOMPARE(edited.count(), 2);
    QCOMPARE(panel.experiment().tensorboard.embedding_images, 77);

    // The form sits in the model panel's scrolled form, inside a "TensorBoard" box.
    auto* box = qobject_cast<QGroupBox*>(panel.tensorBoardForm()->parentWidget());
    QVERIFY(box);
    QCOMPARE(box->title(), QStringLiteral("TensorBoard"));
    QVERIFY(panel.findChild<QScrollArea*>()->widget()->isAncestorOf(box));
}

void TestTensorBoardForm::modelPanelLockKeepsCommandCopyable() {
    ModelPanel panel;
    TensorBoardForm* form = panel.tensorBoardForm();
    panel.setEditable(false);
    QVERIFY(!panel.architectureCombo()->isEnabled());
    QVERIFY(!form->enabledCheck()->isEnabled());
    for (QWidget* w : subOptions(*form)) {
        QVERIFY2(!w->isEnabled(), qPrintable(w->metaObject()->className()));
    }
    QVERIFY(!form->embeddingImagesSpin()->isEnabled());
    QVERIFY(form->copyButton()->isEnabled());
    QVERIFY(form->commandEdit()->isEnabled());

    panel.setEditable(true);
    QVERIFY(panel.architectureCombo()->isEnabled());
    QVERIFY(form->enabledCheck()->isEnabled());
    QVERIFY(form->histogramsCheck()->isEnabled());
    QVERIFY(form->embeddingImagesSpin()->isEnabled());

    // Unlocking brings back only what the logging switch allows.
    form->enabledCheck()->click();
    panel.setEditable(false);
    panel.setEditable(true);
    QVERIFY(form->enabledCheck()->isEnabled());
    QVERIFY(!form->histogramsCheck()->isEnabled());
}

void TestTensorBoardForm::commandWatchesRunsFolder() {
    ModelPanel panel;
    panel.setRunsDir(QStringLiteral("/home/ann/runs"));
    TensorBoardForm* form = panel.tensorBoardForm();
    QCOMPARE(form->runsDir(), QStringLiteral("/home/ann/runs"));
    QCOMPARE(form->command(), QStringLiteral("tensorboard --logdir /home/ann/runs"));
    QCOMPARE(form->commandEdit()->text(), form->command());
    QVERIFY(form->commandEdit()->isReadOnly());
}

void TestTensorBoardForm::commandWatchesSharedLogFolder() {
    TensorBoardForm form;
    form.setRunsDir(QStringLiteral("/home/ann/runs"));
    wb::TensorBoardConfig c;
    c.log_dir = "/srv/tensorboard";
    form.setConfig(c);
    QCOMPARE(form.command(), QStringLiteral("tensorboard --logdir /srv/tensorboard"));
    // Back to "inside each run folder": the runs folder again.
    form.setConfig(wb::TensorBoardConfig{});
    QCOMPARE(form.command(), QStringLiteral("tensorboard --logdir /home/ann/runs"));
}

void TestTensorBoardForm::commandFollowsTypedLogFolder() {
    TensorBoardForm form;
    form.setRunsDir(QStringLiteral("/r"));
    form.logDirEdit()->setFocus();
    QTest::keyClicks(form.logDirEdit(), QStringLiteral("/srv/my logs"));
    QCOMPARE(form.command(), QStringLiteral("tensorboard --logdir '/srv/my logs'"));
    form.logDirEdit()->clear();
    QCOMPARE(form.command(), QStringLiteral("tensorboard --logdir /r"));
}

void TestTensorBoardForm::shellGivesBackThePath_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("quoted");
    QTest::newRow("plain") << QStringLiteral("/home/ann/runs-2025_01.x") << false;
    QTest::newRow("relative") << QStringLiteral("runs") << false;
    QTest::newRow("space") << QStringLiteral("/home/ann/my runs") << true;
    QTest::newRow("two spaces") << QStringLiteral("/a  b/ c ") << true;
    QTest::newRow("single quote") << QStringLiteral("/home/ann/ann's runs") << true;
    QTest::newRow("double quote") << QStringLiteral("/tmp/\"x\"") << true;
    QTest::newRow("dollar") << QStringLiteral("/tmp/$HOME/$(id)") << true;
    QTest::newRow("backtick and backslash") << QStringLiteral("/tmp/`id`\\n") << true;
    QTest::newRow("glob") << QStringLiteral("/tmp/*") << true;
    QTest::newRow("tilde") << QStringLiteral("~/runs") << true;
    QTest::newRow("semicolon and ampersand") << QStringLiteral("/tmp/a;b&c|d") << true;
    QTest::newRow("non-ASCII") << QStringLiteral("/tmp/läufe") << true;
}

void TestTensorBoardForm::shellGivesBackThePath() {
    QFETCH(QString, path);
    QFETCH(bool, quoted);
    TensorBoardForm form;
    form.setRunsDir(path);
    const QString command = form.command();
    QCOMPARE(command.startsWith(QStringLiteral("tensorboard --logdir '")), quoted);
    QCOMPARE(shellWords(command),
             (QStringList{QStringLiteral("tensorboard"), QStringLiteral("--logdir"), path}));

    // The same through the shared log folder.
    wb::TensorBoardConfig c;
    c.log_dir = path.toStdString();
    form.setRunsDir(QStringLiteral("/elsewhere"));
    form.setConfig(c);
    QCOMPARE(shellWords(form.command()).value(2), path);
}

void TestTensorBoardForm::copyPutsCommandOnClipboard() {
    QClipboard* clipboard = QGuiApplication::clipboard();
    clipboard->setText(QStringLiteral("something else"));
    TensorBoardForm form;
    form.setRunsDir(QStringLiteral("/home/ann/my runs"));
    QTest::mouseClick(form.copyButton(), Qt::LeftButton);
    QCOMPARE(clipboard->text(), QStringLiteral("tensorboard --logdir '/home/ann/my runs'"));
    QCOMPARE(form.copyButton()->text(), QStringLiteral("Copy"));
}

void TestTensorBoardForm::remoteHintShown() {
    TensorBoardForm form;
    QCOMPARE(form.remoteHint()->text(),
             QStringLiteral("On a remote machine: ssh -L 6006:localhost:6006 user@host, then open "
                            "http://localhost:6006"));
}

QTEST_MAIN(TestTensorBoardForm)
#include "tst_tensorboard_form.moc"
