using Ray.ObjectStore;

namespace Ray.ObjectManager;

/// <summary>
/// What the transfer service needs from the node's object table: the node's sealed copy of an object, if it has one.
/// An interface, so that the service does not depend on how the node keeps its objects.
/// </summary>
internal interface ILocalObjects
{
    /// <summary>The node's sealed copy of <paramref name="id"/> (in memory or spilled), or null when it has none.</summary>
    StoredObject? Find(ObjectId id);
}
