import Foundation
import HarkClassifier
import HarkEngine
import Testing
import TestSupport

@Suite struct ClassifierCoreTests {
    @Test func percentilesAreNearestRank() {
        let hundred = (1...100).map(Double.init)
        #expect(Percentile.nearestRank(hundred, 0.5) == 50)
        #expect(Percentile.nearestRank(hundred, 0.99) == 99)
        #expect(Percentile.nearestRank([7], 0.99) == 7)
        let ten = (1...10).map(Double.init)
        #expect(Percentile.nearestRank(ten, 0.5) == 5)
        #expect(Percentile.nearestRank(ten, 0.99) == 10)
    }

    @Test func aLayerGridIsRowsOfTheChannelMean() {
        let map = FeatureMap(layer: "x", shape: Shape(channels: 2, height: 2, width: 3), values: [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15])
        let grid = LayerGrid(channelMeanOf: map)
        #expect(grid.shape == [2, 3])
        #expect(grid.values == [[5, 6, 7], [8, 9, 10]])
    }

    @Test func mapsComeFromTheChosenMemberAndAnUnknownOneIsNamed() throws {
        let ensemble = try ModelEnsemble.load(cardPath: TestPaths.pairCard)
        let second = ensemble.members[1].card.name
        let classifier = try Classifier(model: ensemble, mapsMember: second)
        #expect(classifier.mapsMember == 1)
        #expect(classifier.parameters == ensemble.members[1].card.frontend.logMel)
        #expect(throws: ClassifierError.unknownMember(name: "nope", members: ensemble.members.map(\.card.name))) {
            try Classifier(model: ensemble, mapsMember: "nope")
        }
    }
}
