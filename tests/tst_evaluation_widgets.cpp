// The evaluation view's widgets: the confusion matrix heat map (texts, colours, tooltips, clicks,
// scrolling and zoom from 2 to 100 classes, CSV and PNG exports) and the prediction gallery
// (order, captions, thumbnails, hint). Offscreen platform.
//
// By hand: WB_EVAL_WIDGETS_PNG_DIR=/tmp writes cm_view.png, cm_100.png and gallery.png there
// (the widgets as drawn on screen) to look at.

#include <QAbstractItemModel>
#include <QAbstractScrollArea>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QListView>
#include <QPainter>
#include <QRandomGenerator>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QToolButton>
#include <QToolTip>
#include <QWheelEvent>
#include <QtTest>
#include <cmath>

#include "widgets/confusion_matrix_view.h"
#include "widgets/prediction_gallery.h"

using namespace wb::ui;

namespace {

const QStringList kFashion = {"T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// A Fashion-MNIST test set (1000 images a class) as a small CNN confuses it: shirts and
/// T-shirts, pullovers and coats, sneakers and ankle boots.
const QList<qint64> kFashionCounts = {
    860, 1,   15,  20,  3,   1,   95,  0,   5,   0,    //
    2,   975, 1,   15,  3,   0,   3,   0,   1,   0,    //
    18,  1,   850, 9,   65,  0,   55,  0,   2,   0,    //
    20,  6,   10,  905, 30,  0,   27,  0,   2,   0,    //
    1,   1,   70,  25,  860, 0,   42,  0,   1,   0,    //
    0,   0,   0,   0,   0,   975, 0,   17,  1,   7,    //
    125, 1,   65,  25,  70,  0,   705, 0,   9,   0,    //
    0,   0,   0,   0,   0,   10,  0,   965, 0,   25,   //
    2,   1,   3,   4,   2,   2,   5,   3,   977, 1,    //
    0,   0,   0,   0,   0,   5,   1,   30,  0,   964,  //
};

QStringList cifar100() {
    return QStringLiteral(
               "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge "
               "bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud "
               "cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox "
               "girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
               "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter "
               "palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit "
               "raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake "
               "spider squirrel streetcar sunflower sweet_pepper table tank telephone television "
               "tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm")
        .split(QLatin1Char(' '));
}

/// 100 classes of 100 images: most on the diagonal, a few confusions each, seeded.
QList<qint64> hundredCounts() {
    const int n = 100;
    QList<qint64> counts(n * n, 0);
    QRandomGenerator random(7);
    for (int r = 0; r < n; ++r) {
        int left = 100;
        for (int k = 0; k < 6; ++k) {
            const int c = int(random.bounded(n));
            const int taken = int(random.bounded(5));
            counts[r * n + c] += taken;
            left -= taken;
        }
        counts[r * n + r] += left;
    }
    return counts;
}

QList<qint64> identity(int n, qint64 value) {
    QList<qint64> counts(n * n, 0);
    for (int i = 0; i < n; ++i) {
        counts[i * n + i] = value;
    }
    return counts;
}

/// RFC 4180 records, parsed independently of the widget: quoted fields may hold commas, quotes
/// (doubled) and line breaks.
QList<QStringList> parseCsv(const QString& text) {
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    bool started = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += c;
                ++i;
            } else if (c == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == QLatin1Char('"') && !started) {
            quoted = true;
            started = true;
        } else if (c == QLatin1Char(',')) {
            record.append(field);
            field.clear();
            started = false;
        } else if (c == QLatin1Char('\n')) {
            record.append(field);
            records.append(record);
            record.clear();
            field.clear();
            started = false;
        } else {
            field += c;
            started = true;
        }
    }
    return records;
}

void clickAt(QWidget* widget, const QPoint& pos) {
    QTest::mouseClick(widget, Qt::LeftButton, Qt::NoModifier, pos);
}

void ctrlWheel(QWidget* widget, const QPoint& pos, int notches) {
    QWheelEvent event(QPointF(pos), QPointF(widget->mapToGlobal(pos)), QPoint(),
                      QPoint(0, 120 * notches), Qt::NoButton, Qt::ControlModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(widget, &event);
}

void showAt(QWidget& widget, int width, int height) {
    widget.resize(width, height);
    widget.show();
    QVERIFY(QTest::qWaitForWindowExposed(&widget));
}

int luminance(const QColor& c) {
    return int(0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue());
}

/// A 28x28 gray "garment": a filled shape with some texture, different per index.
QImage garment(int index) {
    QImage image(28, 28, QImage::Format_Grayscale8);
    image.fill(0);
    QPainter painter(&image);
    painter.setPen(Qt::NoPen);
    painter.setBrush(
        QColor(150 + (index * 37) % 100, 150 + (index * 37) % 100, 150 + (index * 37) % 100));
    switch (index % 4) {
        case 0:  // shirt: body and sleeves
            painter.drawRect(8, 6, 12, 19);
            painter.drawPolygon(
                QPolygon({QPoint(8, 6), QPoint(2, 14), QPoint(5, 16), QPoint(8, 11)}));
            painter.drawPolygon(
                QPolygon({QPoint(20, 6), QPoint(26, 14), QPoint(23, 16), QPoint(20, 11)}));
            break;
        case 1:  // trouser
            painter.drawRect(9, 3, 10, 5);
            painter.drawRect(9, 8, 4, 18);
            painter.drawRect(15, 8, 4, 18);
            break;
        case 2:  // bag
            painter.drawRect(5, 10, 18, 14);
            painter.setBrush(Qt::NoBrush);
            painter.setPen(QPen(QColor(200, 200, 200), 2));
            painter.drawArc(9, 4, 10, 12, 0, 180 * 16);
            break;
        default:  // ankle boot
            painter.drawRect(7, 4, 8, 16);
            painter.drawRect(7, 18, 17, 6);
            break;
    }
    painter.setPen(QColor(60, 60, 60));
    for (int y = 8; y < 24; y += 4) {
        painter.drawLine(9, y + index % 3, 18, y + index % 3);
    }
    return image;
}

QList<GalleryItem> galleryItems(int count) {
    QList<GalleryItem> items;
    for (int i = 0; i < count; ++i) {
        GalleryItem item;
        item.image = garment(i);
        item.path = QStringLiteral("/data/fashion-mnist/test/Shirt/img_%1.png").arg(1000 + i);
        item.trueClass = QStringLiteral("Shirt");
        const bool wrong = i % 3 != 2;
        item.predictedClass = wrong ? QStringLiteral("T-shirt_top") : QStringLiteral("Shirt");
        item.confidence = 0.97 - 0.03 * i;
        item.loss = wrong ? -std::log(0.02 + 0.01 * i) : -std::log(item.confidence);
        const double rest = 1 - item.confidence;
        item.top = {{item.predictedClass, item.confidence},
                    {wrong ? QStringLiteral("Shirt") : QStringLiteral("T-shirt_top"), rest * 0.7},
                    {QStringLiteral("Pullover"), rest * 0.2}};
        items.append(item);
    }
    return items;
}

}  // namespace

class TestEvaluationWidgets : public QObject {
    Q_OBJECT
private slots:
    void matrixWithoutDataShowsAHint();
    void matrixRejectsInconsistentInput_data();
    void matrixRejectsInconsistentInput();
    void countTextsAndColours();
    void normalizedTextsSumToHundredPerRow();
    void emptyRowShowsDashWhenNormalized();
    void modeComboAndSetterAgree();
    void tooltipsNameBothClassesAndTheShare();
    void clickOnACellEmitsTrueAndPredicted_data();
    void clickOnACellEmitsTrueAndPredicted();
    void clickOffTheCellsOrDraggedEmitsNothing();
    void twoClassesFitWithoutScrolling();
    void hundredClassesScrollAndZoom();
    void ctrlWheelZoomsAroundTheCursor();
    void numbersOnlyWhenTheyFit();
    void csvIsExactAndReadsBack();
    void pngHoldsTheWholeMatrix_data();
    void pngHoldsTheWholeMatrix();

    void galleryWithoutItemsShowsAHint();
    void galleryShowsItemsInTheGivenOrder();
    void galleryCaptionsAndTooltips();
    void galleryThumbnailsStayCrisp();
    void galleryMakesThumbnailsOnlyWhenDrawn();
    void galleryDoubleClickEmitsThePath();

    void screenshots();
};

// --- Confusion matrix -------------------------------------------------------------------------

void TestEvaluationWidgets::matrixWithoutDataShowsAHint() {
    ConfusionMatrixView view;
    QVERIFY(view.showsHint());
    QCOMPARE(view.classCount(), 0);
    QVERIFY(view.csvText().isEmpty());
    QVERIFY(view.accuracyText().isEmpty());
    QTemporaryDir dir;
    QVERIFY(!view.exportPng(dir.filePath(QStringLiteral("x.png"))));
    QVERIFY(view.setMatrix({"a", "b"}, {1, 2, 3, 4}));
    QVERIFY(!view.showsHint());
    view.clear();
    QVERIFY(view.showsHint());
}

void TestEvaluationWidgets::matrixRejectsInconsistentInput_data() {
    QTest::addColumn<QStringList>("classes");
    QTest::addColumn<QList<qint64>>("counts");
    QTest::newRow("no classes") << QStringList() << QList<qint64>();
    QTest::newRow("too few counts") << QStringList{"a", "b"} << QList<qint64>{1, 2, 3};
    QTest::newRow("too many counts") << QStringList{"a", "b"} << QList<qint64>{1, 2, 3, 4, 5};
    QTest::newRow("negative count") << QStringList{"a", "b"} << QList<qint64>{1, -2, 3, 4};
}

void TestEvaluationWidgets::matrixRejectsInconsistentInput() {
    QFETCH(QStringList, classes);
    QFETCH(QList<qint64>, counts);
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix({"x", "y"}, {1, 0, 0, 1}));
    QVERIFY(!view.setMatrix(classes, counts));
    QVERIFY(view.showsHint());
    QCOMPARE(view.classCount(), 0);
}

void TestEvaluationWidgets::countTextsAndColours() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    QVERIFY(!view.isNormalized());
    QCOMPARE(view.classCount(), 10);
    QCOMPARE(view.cellText(6, 0), QStringLiteral("125"));  // Shirt taken for T-shirt_top
    QCOMPARE(view.cellText(0, 6), QStringLiteral("95"));
    QCOMPARE(view.cellText(6, 6), QStringLiteral("705"));
    QCOMPARE(view.cellText(5, 0), QStringLiteral("0"));
    QCOMPARE(view.count(8, 8), qint64(977));
    QCOMPARE(view.rowTotal(6), qint64(1000));
    QCOMPARE(view.scaleMinText(), QStringLiteral("0"));
    QCOMPARE(view.scaleMaxText(), QStringLiteral("977"));
    QCOMPARE(view.accuracyText(), QStringLiteral("Accuracy 90.4% (9036 of 10000 images)"));

    // The largest count is the darkest blue, zero the lightest; darker with the count.
    QCOMPARE(view.cellColor(8, 8), QColor(8, 48, 107));
    QCOMPARE(view.cellColor(5, 0), QColor(247, 251, 255));
    QVERIFY(luminance(view.cellColor(6, 6)) < luminance(view.cellColor(6, 0)));
    QVERIFY(luminance(view.cellColor(6, 0)) < luminance(view.cellColor(0, 6)));
    QVERIFY(luminance(view.cellColor(0, 6)) < luminance(view.cellColor(0, 2)));
    QVERIFY(luminance(view.cellColor(0, 2)) < luminance(view.cellColor(0, 1)));
    // A single image is still a tint apart from none.
    QVERIFY(luminance(view.cellColor(0, 1)) < luminance(view.cellColor(0, 7)) - 5);
}

void TestEvaluationWidgets::normalizedTextsSumToHundredPerRow() {
    ConfusionMatrixView view;
    // 8 of class a: 1 wrong; 3 of class b: 1 wrong.
    QVERIFY(view.setMatrix({"a", "b"}, {7, 1, 1, 2}));
    view.setNormalized(true);
    QVERIFY(view.isNormalized());
    QCOMPARE(view.cellText(0, 0), QStringLiteral("87.5%"));
    QCOMPARE(view.cellText(0, 1), QStringLiteral("12.5%"));
    QCOMPARE(view.cellText(1, 0), QStringLiteral("33.3%"));
    QCOMPARE(view.cellText(1, 1), QStringLiteral("66.7%"));
    QCOMPARE(view.scaleMinText(), QStringLiteral("0%"));
    QCOMPARE(view.scaleMaxText(), QStringLiteral("100%"));
    QVERIFY(view.setMatrix({"a", "b"}, {5, 0, 0, 3}));
    QCOMPARE(view.cellText(0, 0), QStringLiteral("100%"));
    QCOMPARE(view.cellText(0, 1), QStringLiteral("0%"));
    // Both diagonal cells are full rows: the same, darkest colour though their counts differ.
    QCOMPARE(view.cellColor(0, 0), QColor(8, 48, 107));
    QCOMPARE(view.cellColor(1, 1), view.cellColor(0, 0));

    QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    QVERIFY(view.isNormalized());  // a new matrix keeps the mode
    for (int r = 0; r < 10; ++r) {
        double sum = 0;
        for (int c = 0; c < 10; ++c) {
            sum += view.rowPercent(r, c);
        }
        QVERIFY2(std::abs(sum - 100.0) < 1e-9, qPrintable(QString::number(sum)));
    }
    QCOMPARE(view.cellText(6, 0), QStringLiteral("12.5%"));
    // Back to counts: the texts follow.
    view.setNormalized(false);
    QCOMPARE(view.cellText(6, 0), QStringLiteral("125"));
}

void TestEvaluationWidgets::emptyRowShowsDashWhenNormalized() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix({"a", "b", "c"}, {4, 1, 0, 0, 0, 0, 2, 0, 3}));
    QCOMPARE(view.rowTotal(1), qint64(0));
    QCOMPARE(view.cellText(1, 0), QStringLiteral("0"));
    QCOMPARE(view.cellText(1, 1), QStringLiteral("0"));
    view.setNormalized(true);
    QVERIFY(std::isnan(view.rowPercent(1, 1)));
    for (int c = 0; c < 3; ++c) {
        QCOMPARE(view.cellText(1, c), QStringLiteral("\u2014"));
        // Grey, apart from the scale: an empty row is no 0%.
        const QColor colour = view.cellColor(1, c);
        QVERIFY(colour.red() == colour.green() && colour.green() == colour.blue());
        QVERIFY(colour != view.cellColor(0, 2));
    }
    QCOMPARE(view.cellText(0, 2), QStringLiteral("0%"));
    QCOMPARE(view.cellText(2, 0), QStringLiteral("40.0%"));
}

void TestEvaluationWidgets::modeComboAndSetterAgree() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix({"a", "b"}, {3, 1, 0, 4}));
    QSignalSpy spy(&view, &ConfusionMatrixView::normalizedChanged);
    QCOMPARE(view.modeCombo()->currentIndex(), 0);
    view.modeCombo()->setCurrentIndex(1);
    QVERIFY(view.isNormalized());
    QCOMPARE(view.cellText(0, 0), QStringLiteral("75.0%"));
    view.setNormalized(false);
    QCOMPARE(view.modeCombo()->currentIndex(), 0);
    view.setNormalized(false);  // no change, no signal
    QCOMPARE(spy.size(), 2);
    QCOMPARE(spy[0][0].toBool(), true);
    QCOMPARE(spy[1][0].toBool(), false);
}

void TestEvaluationWidgets::tooltipsNameBothClassesAndTheShare() {
    ConfusionMatrixView view;
    QList<qint64> counts = kFashionCounts;
    counts[6 * 10 + 0] = 123;  // Shirt as T-shirt_top
    counts[6 * 10 + 8] = 1;
    counts[6 * 10 + 6] = 715;  // the row still holds 1000 images
    QVERIFY(view.setMatrix(kFashion, counts));
    QCOMPARE(
        view.cellToolTip(6, 0),
        QStringLiteral("true Shirt \u2192 predicted T-shirt_top: 123 images (12.3% of Shirt)"));
    QCOMPARE(view.cellToolTip(6, 8),
             QStringLiteral("true Shirt \u2192 predicted Bag: 1 image (0.1% of Shirt)"));
    QCOMPARE(view.cellToolTip(5, 0),
             QStringLiteral("true Sandal \u2192 predicted T-shirt_top: 0 images (0% of Sandal)"));
    // The same in either display mode.
    view.setNormalized(true);
    QCOMPARE(
        view.cellToolTip(6, 0),
        QStringLiteral("true Shirt \u2192 predicted T-shirt_top: 123 images (12.3% of Shirt)"));
    QVERIFY(view.cellToolTip(10, 0).isEmpty());

    QVERIFY(view.setMatrix({"a", "b"}, {0, 0, 1, 1}));
    QCOMPARE(view.cellToolTip(0, 1),
             QStringLiteral("true a \u2192 predicted b: 0 images (no images of a)"));

    // What the viewport shows on a tooltip event over a cell, and over a name.
    showAt(view, 500, 400);
    const QPoint over = view.cellRect(1, 0).center();
    QHelpEvent help(QEvent::ToolTip, over, view.viewport()->mapToGlobal(over));
    QApplication::sendEvent(view.viewport(), &help);
    QCOMPARE(QToolTip::text(), view.cellToolTip(1, 0));
    const QPoint name(view.cellRect(1, 0).left() - 5, over.y());
    QHelpEvent nameHelp(QEvent::ToolTip, name, view.viewport()->mapToGlobal(name));
    QApplication::sendEvent(view.viewport(), &nameHelp);
    QCOMPARE(QToolTip::text(), QStringLiteral("true b: 2 images"));
    QToolTip::hideText();
}

void TestEvaluationWidgets::clickOnACellEmitsTrueAndPredicted_data() {
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("trueClass");
    QTest::addColumn<int>("predictedClass");
    QTest::newRow("2 classes, off the diagonal") << 2 << 1 << 0;
    QTest::newRow("2 classes, diagonal") << 2 << 1 << 1;
    QTest::newRow("10 classes, shirt as T-shirt") << 10 << 6 << 0;
    QTest::newRow("10 classes, last cell") << 10 << 9 << 9;
    QTest::newRow("10 classes, first cell") << 10 << 0 << 0;
}

void TestEvaluationWidgets::clickOnACellEmitsTrueAndPredicted() {
    QFETCH(int, classes);
    QFETCH(int, trueClass);
    QFETCH(int, predictedClass);
    ConfusionMatrixView view;
    if (classes == 10) {
        QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    } else {
        QVERIFY(view.setMatrix({"cat", "dog"}, {40, 10, 5, 45}));
    }
    showAt(view, 700, 600);
    QSignalSpy spy(&view, &ConfusionMatrixView::cellClicked);
    const QRect cell = view.cellRect(trueClass, predictedClass);
    QVERIFY(view.viewport()->rect().contains(cell));
    QCOMPARE(view.cellAt(cell.center()), QPoint(predictedClass, trueClass));
    // The centre and each corner pixel of the cell.
    const QList<QPoint> pixels = {cell.center(), cell.topLeft(), cell.bottomRight(),
                                  cell.topRight(), cell.bottomLeft()};
    for (const QPoint& pixel : pixels) {
        clickAt(view.viewport(), pixel);
    }
    QCOMPARE(spy.size(), pixels.size());
    for (const auto& args : spy) {
        QCOMPARE(args[0].toInt(), trueClass);
        QCOMPARE(args[1].toInt(), predictedClass);
    }
}

void TestEvaluationWidgets::clickOffTheCellsOrDraggedEmitsNothing() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    showAt(view, 700, 600);
    QSignalSpy spy(&view, &ConfusionMatrixView::cellClicked);
    const QRect first = view.cellRect(0, 0);
    const QRect last = view.cellRect(9, 9);
    clickAt(view.viewport(), QPoint(first.left() - 3, first.center().y()));  // a row name
    clickAt(view.viewport(), QPoint(first.center().x(), first.top() - 3));   // a column name
    clickAt(view.viewport(), last.bottomRight() + QPoint(3, 3));             // past the last
    // Pressed on one cell, released on another: a drag, not a click.
    QTest::mousePress(view.viewport(), Qt::LeftButton, Qt::NoModifier, first.center());
    QTest::mouseRelease(view.viewport(), Qt::LeftButton, Qt::NoModifier, last.center());
    QCOMPARE(spy.size(), 0);
    QCOMPARE(view.cellAt(first.topLeft() - QPoint(1, 1)), QPoint(-1, -1));
}

void TestEvaluationWidgets::twoClassesFitWithoutScrolling() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix({"cat", "dog"}, {40, 10, 5, 45}));
    showAt(view, 600, 500);
    QVERIFY(view.isFitToView());
    QCOMPARE(view.cellSize(), 96);  // capped: two cells do not fill a whole window
    QCOMPARE(view.scrollArea()->horizontalScrollBar()->maximum(), 0);
    QCOMPARE(view.scrollArea()->verticalScrollBar()->maximum(), 0);
    QVERIFY(view.numbersShown());
    QVERIFY(view.viewport()->rect().contains(view.cellRect(1, 1)));

    // Ten classes in the same window fit too, in smaller cells.
    QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    QVERIFY(view.cellSize() < 96);
    QVERIFY(view.cellSize() >= 18);
    QVERIFY(view.viewport()->rect().contains(view.cellRect(9, 9)));
    QCOMPARE(view.scrollArea()->verticalScrollBar()->maximum(), 0);
    QVERIFY(view.numbersShown());
}

void TestEvaluationWidgets::hundredClassesScrollAndZoom() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(cifar100(), hundredCounts()));
    showAt(view, 800, 600);
    QVERIFY(view.isFitToView());
    QCOMPARE(view.cellSize(), 18);  // Fit stops where names stay legible, and scrolls
    QScrollBar* h = view.scrollArea()->horizontalScrollBar();
    QScrollBar* v = view.scrollArea()->verticalScrollBar();
    QVERIFY(h->maximum() > 0);
    QVERIFY(v->maximum() > 0);

    // The buttons zoom, and leave Fit; Fit comes back.
    const int fitted = view.cellSize();
    view.zoomInButton()->click();
    QVERIFY(view.cellSize() > fitted);
    QVERIFY(!view.isFitToView());
    QVERIFY(!view.fitButton()->isChecked());
    view.zoomOutButton()->click();
    view.zoomOutButton()->click();
    QVERIFY(view.cellSize() < fitted);
    view.fitButton()->click();
    QVERIFY(view.isFitToView());
    QCOMPARE(view.cellSize(), fitted);

    // Scrolled to the end: the last cell is in view, and a click on it still maps right.
    QSignalSpy spy(&view, &ConfusionMatrixView::cellClicked);
    const QRect before = view.cellRect(99, 98);
    h->setValue(h->maximum());
    v->setValue(v->maximum());
    const QRect after = view.cellRect(99, 98);
    QCOMPARE(after.topLeft(), before.topLeft() - QPoint(h->maximum(), v->maximum()));
    QVERIFY(view.viewport()->rect().contains(after));
    clickAt(view.viewport(), after.center());
    // And in the middle of the scroll range, a cell scrolled into view.
    view.setCellSize(30);
    view.ensureCellVisible(57, 23);
    const QRect middle = view.cellRect(57, 23);
    QVERIFY(view.viewport()->rect().contains(middle));
    QVERIFY(h->value() > 0);
    QVERIFY(v->value() > 0);
    clickAt(view.viewport(), middle.center());
    QCOMPARE(spy.size(), 2);
    QCOMPARE(spy[0][0].toInt(), 99);
    QCOMPARE(spy[0][1].toInt(), 98);
    QCOMPARE(spy[1][0].toInt(), 57);
    QCOMPARE(spy[1][1].toInt(), 23);
}

void TestEvaluationWidgets::ctrlWheelZoomsAroundTheCursor() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(cifar100(), hundredCounts()));
    showAt(view, 800, 600);
    view.setCellSize(24);
    view.ensureCellVisible(40, 30);
    const QPoint pixel = view.cellRect(40, 30).center();
    const int before = view.cellSize();
    ctrlWheel(view.viewport(), pixel, 2);
    QVERIFY2(view.cellSize() > before, qPrintable(QString::number(view.cellSize())));
    QCOMPARE(view.cellAt(pixel), QPoint(30, 40));
    const int zoomed = view.cellSize();
    ctrlWheel(view.viewport(), pixel, -1);
    QVERIFY(view.cellSize() < zoomed);
    QCOMPARE(view.cellAt(pixel), QPoint(30, 40));
    // A wheel without Ctrl scrolls instead.
    const int size = view.cellSize();
    const int scroll = view.scrollArea()->verticalScrollBar()->value();
    QWheelEvent plain(QPointF(pixel), QPointF(view.viewport()->mapToGlobal(pixel)), QPoint(),
                      QPoint(0, -120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view.viewport(), &plain);
    QCOMPARE(view.cellSize(), size);
    QVERIFY(view.scrollArea()->verticalScrollBar()->value() > scroll);
}

void TestEvaluationWidgets::numbersOnlyWhenTheyFit() {
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(cifar100(), hundredCounts()));
    showAt(view, 800, 600);
    view.setCellSize(8);
    QVERIFY(!view.numbersShown());
    view.setCellSize(40);
    QVERIFY(view.numbersShown());
    view.setNormalized(true);  // "100%" is wider than "100"
    view.setCellSize(24);
    QVERIFY(!view.numbersShown());
    view.setCellSize(48);
    QVERIFY(view.numbersShown());
}

void TestEvaluationWidgets::csvIsExactAndReadsBack() {
    const QStringList classes = {"Shirt", "T-shirt, top", "Bag \"large\""};
    ConfusionMatrixView view;
    QVERIFY(view.setMatrix(classes, {5, 2, 0, 1, 7, 1, 0, 0, 0}));
    view.setNormalized(true);  // the CSV holds counts whatever is shown
    const QString expected = QStringLiteral(
        "true\\predicted,Shirt,\"T-shirt, top\",\"Bag \"\"large\"\"\"\n"
        "Shirt,5,2,0\n"
        "\"T-shirt, top\",1,7,1\n"
        "\"Bag \"\"large\"\"\",0,0,0\n");
    QCOMPARE(view.csvText(), expected);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("matrix.csv"));
    QVERIFY(view.exportCsv(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString written = QString::fromUtf8(file.readAll());
    QCOMPARE(written, expected);
    const QList<QStringList> records = parseCsv(written);
    QCOMPARE(records.size(), 4);
    QCOMPARE(records[0], QStringList({"true\\predicted"}) + classes);
    for (int r = 0; r < 3; ++r) {
        QCOMPARE(records[r + 1].size(), 4);
        QCOMPARE(records[r + 1][0], classes[r]);
        for (int c = 0; c < 3; ++c) {
            QCOMPARE(records[r + 1][c + 1].toLongLong(), view.count(r, c));
        }
    }
    QVERIFY(!view.exportCsv(dir.filePath(QStringLiteral("no/such/folder/x.csv"))));
}

void TestEvaluationWidgets::pngHoldsTheWholeMatrix_data() {
    QTest::addColumn<int>("classes");
    QTest::newRow("2") << 2;
    QTest::newRow("10") << 10;
    QTest::newRow("100") << 100;
}

void TestEvaluationWidgets::pngHoldsTheWholeMatrix() {
    QFETCH(int, classes);
    ConfusionMatrixView view;
    if (classes == 100) {
        QVERIFY(view.setMatrix(cifar100(), hundredCounts()));
    } else if (classes == 10) {
        QVERIFY(view.setMatrix(kFashion, kFashionCounts));
    } else {
        QVERIFY(view.setMatrix({"cat", "dog"}, {40, 10, 5, 45}));
    }
    view.setTitle(QStringLiteral("Validation, epoch 5"));
    // A small window scrolled to a corner: the export still holds every cell.
    showAt(view, 300, 250);
    view.ensureCellVisible(classes - 1, classes - 1);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("matrix.png"));
    QVERIFY(view.exportPng(path));
    QImage image;
    QVERIFY(image.load(path));
    const int cell = view.exportCellSize();
    QVERIFY(cell >= 36);
    QVERIFY(image.width() >= classes * cell);
    QVERIFY(image.height() >= classes * cell);

    // Each diagonal cell of the identity is the darkest blue: count those pixels.
    QVERIFY(view.setMatrix(view.classes(), identity(classes, 10)));
    QVERIFY(view.exportPng(path));
    QVERIFY(image.load(path));
    const QRgb darkest = QColor(8, 48, 107).rgb();
    qint64 dark = 0;
    for (int y = 0; y < image.height(); ++y) {
        const QRgb* line = reinterpret_cast<const QRgb*>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x) {
            dark += (line[x] | 0xff000000) == darkest;
        }
    }
    // Most of each cell: the border and the number take the rest.
    QVERIFY2(dark > qint64(classes) * cell * cell / 2, qPrintable(QString::number(dark)));
    QVERIFY(!view.exportPng(dir.filePath(QStringLiteral("no/such/folder/x.png"))));
}

// --- Prediction gallery -----------------------------------------------------------------------

void TestEvaluationWidgets::galleryWithoutItemsShowsAHint() {
    PredictionGallery gallery;
    QVERIFY(gallery.showsHint());
    QCOMPARE(gallery.hintText(), QStringLiteral("No images to show"));
    QCOMPARE(gallery.itemCount(), 0);
    gallery.setItems(QStringLiteral("Shirt predicted as Bag"), {});
    QVERIFY(gallery.showsHint());
    QCOMPARE(gallery.title(), QStringLiteral("Shirt predicted as Bag"));
    QVERIFY(gallery.countText().isEmpty());
    gallery.setItems(QStringLiteral("Top losses"), galleryItems(3));
    QVERIFY(!gallery.showsHint());
    QCOMPARE(gallery.countText(), QStringLiteral("3 images"));
    gallery.setEmptyHint(QStringLiteral("Click a cell of the matrix"));
    gallery.clear();
    QVERIFY(gallery.showsHint());
    QCOMPARE(gallery.hintText(), QStringLiteral("Click a cell of the matrix"));
}

void TestEvaluationWidgets::galleryShowsItemsInTheGivenOrder() {
    PredictionGallery gallery;
    QList<GalleryItem> items = galleryItems(12);
    std::reverse(items.begin(), items.end());  // whatever order the caller chose
    gallery.setItems(QStringLiteral("Top losses"), items);
    showAt(gallery, 700, 900);
    QCOMPARE(gallery.itemCount(), 12);
    QAbstractItemModel* model = gallery.listView()->model();
    QCOMPARE(model->rowCount(), 12);
    QRect previous;
    for (int i = 0; i < 12; ++i) {
        QCOMPARE(gallery.item(i).path, items[i].path);
        QVERIFY(
            model->index(i, 0).data().toString().startsWith(QFileInfo(items[i].path).fileName()));
        // Reading order: left to right, then the next row.
        const QRect rect = gallery.itemRect(i);
        QVERIFY(rect.isValid());
        if (i > 0) {
            QVERIFY((rect.top() == previous.top() && rect.left() > previous.left()) ||
                    rect.top() > previous.top());
        }
        previous = rect;
    }
    QVERIFY(gallery.itemRect(1).top() == gallery.itemRect(0).top());  // several a row
}

void TestEvaluationWidgets::galleryCaptionsAndTooltips() {
    PredictionGallery gallery;
    GalleryItem item;
    item.image = garment(0);
    item.path = QStringLiteral("/data/test/Shirt/img_00042.png");
    item.trueClass = QStringLiteral("Shirt");
    item.predictedClass = QStringLiteral("T-shirt_top");
    item.confidence = 0.873;
    item.loss = 2.3125;
    item.top = {{"T-shirt_top", 0.873}, {"Shirt", 0.099}, {"Pullover", 0.02}, {"Coat", 0.008}};
    GalleryItem right = item;
    right.predictedClass = QStringLiteral("Shirt");
    right.loss = std::numeric_limits<double>::quiet_NaN();
    right.top = {};
    gallery.setItems(QStringLiteral("Shirt predicted as T-shirt_top"), {item, right});

    QCOMPARE(gallery.captionLines(0),
             QStringList({"img_00042.png", "true Shirt", "pred T-shirt_top 87.3%", "loss 2.31"}));
    QCOMPARE(gallery.topTexts(0),
             QStringList({"T-shirt_top 87.3%", "Shirt 9.9%", "Pullover 2.0%"}));  // three only
    QCOMPARE(gallery.toolTipText(0),
             QStringLiteral("/data/test/Shirt/img_00042.png\ntrue Shirt\npred T-shirt_top 87.3%\n"
                            "loss 2.31\ntop: T-shirt_top 87.3%, Shirt 9.9%, Pullover 2.0%"));
    QCOMPARE(gallery.listView()->model()->index(0, 0).data(Qt::ToolTipRole).toString(),
             gallery.toolTipText(0));
    QVERIFY(!gallery.isCorrect(0));
    QVERIFY(gallery.isCorrect(1));
    // No loss, no top: neither line.
    QCOMPARE(gallery.captionLines(1),
             QStringList({"img_00042.png", "true Shirt", "pred Shirt 87.3%"}));
    QVERIFY(gallery.topTexts(1).isEmpty());
    QCOMPARE(gallery.toolTipText(1),
             QStringLiteral("/data/test/Shirt/img_00042.png\ntrue Shirt\npred Shirt 87.3%"));
}

void TestEvaluationWidgets::galleryThumbnailsStayCrisp() {
    PredictionGallery gallery;
    GalleryItem small;
    small.image = garment(1);
    GalleryItem large;
    large.image = QImage(300, 200, QImage::Format_RGB32);
    large.image.fill(Qt::red);
    GalleryItem none;
    gallery.setItems(QStringLiteral("t"), {small, large, none});
    QCOMPARE(gallery.thumbnailSize(), 96);
    const QImage thumb = gallery.thumbnail(0);
    QCOMPARE(thumb.size(), QSize(84, 84));  // 28 x 3, a whole factor
    for (int y = 0; y < 28; ++y) {
        for (int x = 0; x < 28; ++x) {
            const QRgb source = small.image.pixel(x, y);
            QCOMPARE(thumb.pixel(3 * x, 3 * y), source);
            QCOMPARE(thumb.pixel(3 * x + 2, 3 * y + 2), source);
        }
    }
    QCOMPARE(gallery.thumbnail(1).size(), QSize(96, 64));
    QVERIFY(gallery.thumbnail(2).isNull());
    gallery.setThumbnailSize(56);
    QCOMPARE(gallery.thumbnail(0).size(), QSize(56, 56));
}

void TestEvaluationWidgets::galleryMakesThumbnailsOnlyWhenDrawn() {
    PredictionGallery gallery;
    gallery.setItems(QStringLiteral("Top losses"), galleryItems(400));
    QCOMPARE(gallery.thumbnailsMade(), 0);
    showAt(gallery, 700, 500);
    gallery.grab();  // paints what is in view
    const int made = gallery.thumbnailsMade();
    QVERIFY2(made > 0 && made < 60, qPrintable(QString::number(made)));
    QCOMPARE(gallery.itemCount(), 400);
}

void TestEvaluationWidgets::galleryDoubleClickEmitsThePath() {
    PredictionGallery gallery;
    const QList<GalleryItem> items = galleryItems(6);
    gallery.setItems(QStringLiteral("Top losses"), items);
    showAt(gallery, 700, 600);
    QSignalSpy spy(&gallery, &PredictionGallery::itemDoubleClicked);
    const QPoint pos = gallery.itemRect(4).center();
    // As a window system sends it: a click, then the double click (QTest sends only the latter).
    QTest::mouseClick(gallery.listView()->viewport(), Qt::LeftButton, Qt::NoModifier, pos);
    QTest::mouseDClick(gallery.listView()->viewport(), Qt::LeftButton, Qt::NoModifier, pos);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy[0][0].toInt(), 4);
    QCOMPARE(spy[0][1].toString(), items[4].path);
}

// --- By hand ----------------------------------------------------------------------------------

void TestEvaluationWidgets::screenshots() {
    const QString folder = qEnvironmentVariable("WB_EVAL_WIDGETS_PNG_DIR");
    if (folder.isEmpty()) {
        QSKIP("set WB_EVAL_WIDGETS_PNG_DIR to write screenshots");
    }
    const QDir dir(folder);
    {
        ConfusionMatrixView view;
        view.setTitle(QStringLiteral("Validation, epoch 5"));
        QVERIFY(view.setMatrix(kFashion, kFashionCounts));
        showAt(view, 760, 620);
        // The cursor over Shirt taken for T-shirt_top (QTest::mouseMove moves no cursor here).
        const QPoint over = view.cellRect(6, 0).center();
        QMouseEvent move(QEvent::MouseMove, QPointF(over),
                         QPointF(view.viewport()->mapToGlobal(over)), Qt::NoButton, Qt::NoButton,
                         Qt::NoModifier);
        QApplication::sendEvent(view.viewport(), &move);
        QVERIFY(view.grab().save(dir.filePath(QStringLiteral("cm_view.png"))));
        view.setNormalized(true);
        QVERIFY(view.grab().save(dir.filePath(QStringLiteral("cm_view_normalized.png"))));
        QVERIFY(view.exportPng(dir.filePath(QStringLiteral("cm_export.png"))));
    }
    {
        ConfusionMatrixView view;
        view.setTitle(QStringLiteral("CIFAR-100 validation, epoch 30"));
        QVERIFY(view.setMatrix(cifar100(), hundredCounts()));
        showAt(view, 900, 700);
        view.scrollArea()->horizontalScrollBar()->setValue(300);
        view.scrollArea()->verticalScrollBar()->setValue(200);
        QVERIFY(view.grab().save(dir.filePath(QStringLiteral("cm_100.png"))));
        view.setCellSize(6);
        QVERIFY(view.grab().save(dir.filePath(QStringLiteral("cm_100_small.png"))));
        QVERIFY(view.exportPng(dir.filePath(QStringLiteral("cm_100_export.png"))));
    }
    {
        PredictionGallery gallery;
        gallery.setItems(QStringLiteral("Shirt predicted as T-shirt_top"), galleryItems(20));
        showAt(gallery, 900, 700);
        gallery.listView()->setCurrentIndex(gallery.listView()->model()->index(1, 0));
        QVERIFY(gallery.grab().save(dir.filePath(QStringLiteral("gallery.png"))));
        gallery.clear();
        QVERIFY(gallery.grab().save(dir.filePath(QStringLiteral("gallery_empty.png"))));
    }
}

QTEST_MAIN(TestEvaluationWidgets)
#include "tst_evaluation_widgets.moc"
