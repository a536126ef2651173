#include "app/class_metrics_table.h"

#include <QHeaderView>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QStyle>
#include <algorithm>

namespace wb::ui {
namespace {

constexpr int kSortRole = Qt::UserRole + 1;     ///< double: what a column sorts by
constexpr int kAverageRole = Qt::UserRole + 2;  ///< bool: a macro or weighted average row
constexpr int kRateDecimals = 3;
/// Longer class names are elided rather than widening the table further.
constexpr int kMaxClassWidth = 160;

/// Sorts by kSortRole and keeps the average rows at the bottom, in their order, whichever the
/// sort order.
class AveragesLastProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override {
        const bool leftAverage = left.data(kAverageRole).toBool();
        const bool rightAverage = right.data(kAverageRole).toBool();
        const bool ascending = sortOrder() == Qt::AscendingOrder;
        if (leftAverage && rightAverage) {
            // In a descending sort a row is shown first when it is "greater".
            return ascending == (left.row() < right.row());
        }
        if (leftAverage || rightAverage) {
            return ascending ? rightAverage : leftAverage;
        }
        return QSortFilterProxyModel::lessThan(left, right);
    }
};

QList<QStandardItem*> metricsRow(const QString& name, double sortIndex, const wb::ClassMetrics& m,
                                 bool average) {
    const auto item = [average](const QString& text, double sortValue, bool number) {
        auto* it = new QStandardItem(text);
        it->setData(sortValue, kSortRole);
        it->setData(average, kAverageRole);
        it->setTextAlignment(number ? Qt::AlignRight | Qt::AlignVCenter
                                    : Qt::AlignLeft | Qt::AlignVCenter);
        if (average) {
            QFont font = it->font();
            font.setItalic(true);
            it->setFont(font);
        }
        return it;
    };
    const auto rate = [&](double value) {
        return item(QString::number(value, 'f', kRateDecimals), value, true);
    };
    return {item(name, sortIndex, false), rate(m.precision), rate(m.recall), rate(m.f1),
            item(QString::number(m.support), double(m.support), true)};
}

}  // namespace

ClassMetricsTable::ClassMetricsTable(QWidget* parent) : QTableView(parent) {
    m_model = new QStandardItemModel(0, ColumnCount, this);
    m_model->setHorizontalHeaderLabels(
        {tr("Class"), tr("Precision"), tr("Recall"), tr("F1"), tr("Support")});
    m_model->horizontalHeaderItem(Support)->setToolTip(tr("Images of the class in the split"));
    m_model->horizontalHeaderItem(Class)->setToolTip(
        tr("Sorts by class index; the averages stay at the bottom"));
    m_proxy = new AveragesLastProxy(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(kSortRole);
    m_proxy->setDynamicSortFilter(true);
    setModel(m_proxy);

    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setAlternatingRowColors(true);
    verticalHeader()->setVisible(false);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    // The numbers as wide as they need, the rest to the names; minimumSizeHint() keeps the
    // table wide enough for all of it, so that it never scrolls sideways.
    horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    horizontalHeader()->setSectionResizeMode(Class, QHeaderView::Stretch);
    // Class order first; a click on a header sorts by that column.
    horizontalHeader()->setSortIndicator(Class, Qt::AscendingOrder);
    setSortingEnabled(true);
}

QSize ClassMetricsTable::minimumSizeHint() const {
    QSize size = QTableView::minimumSizeHint();
    // Room for a vertical scroll bar whether shown or not: the width must not depend on the
    // height.
    int width = 2 * frameWidth() + style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, this);
    for (int c = 0; c < ColumnCount; ++c) {
        const int content = std::max(sizeHintForColumn(c), horizontalHeader()->sectionSizeHint(c));
        width += c == Class ? std::min(content, kMaxClassWidth) : content;
    }
    size.setWidth(std::max(size.width(), width));
    return size;
}

QSize ClassMetricsTable::sizeHint() const {
    return QSize(minimumSizeHint().width(), QTableView::sizeHint().height());
}

void ClassMetricsTable::setMetrics(const QStringList& classes,
                                   const wb::ClassificationMetrics& metrics) {
    m_model->removeRows(0, m_model->rowCount());
    for (int k = 0; k < int(metrics.per_class.size()); ++k) {
        const QString name = k < classes.size() ? classes[k] : QString::number(k);
        m_model->appendRow(metricsRow(name, k, metrics.per_class[std::size_t(k)], false));
    }
    m_model->appendRow(metricsRow(tr("macro avg"), -1, metrics.macro, true));
    m_model->appendRow(metricsRow(tr("weighted avg"), -1, metrics.weighted, true));
    m_model->item(m_model->rowCount() - 2, Class)
        ->setToolTip(tr("Unweighted mean over the classes"));
    m_model->item(m_model->rowCount() - 1, Class)
        ->setToolTip(tr("Mean weighted by support; the support is all images"));
    updateGeometry();
}

void ClassMetricsTable::clear() {
    m_model->removeRows(0, m_model->rowCount());
}

int ClassMetricsTable::rowCount() const {
    return m_proxy->rowCount();
}

QString ClassMetricsTable::text(int row, int column) const {
    return m_proxy->index(row, column).data(Qt::DisplayRole).toString();
}

double ClassMetricsTable::value(int row, int column) const {
    return m_proxy->index(row, column).data(kSortRole).toDouble();
}

bool ClassMetricsTable::isAverageRow(int row) const {
    return m_proxy->index(row, Class).data(kAverageRole).toBool();
}

}  // namespace wb::ui
